"""The torch side of the MLP and CNN agents: networks, and the trainer that plays the game.

Imported only when an agent is built, so that ``arena list`` stays free of torch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agents.supervised.common import Layout, info_arrays
from agents.supervised.config import CNNConfig, MLPConfig, ResNetConfig
from arena.config_blocks import DecayConfig
from arena.errors import ConfigError
from arena.torch_utils import load_optimizer_state, optimizer_state, resolve_device

if TYPE_CHECKING:
    from arena.agent import Agent

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


def build_mlp(layout: Layout, hidden_sizes: tuple[int, ...], activation: str) -> nn.Module:
    """Flatten, then ``Linear -> activation`` per hidden layer, then a Linear to the classes."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(layout.feature_shape)
    for size in hidden_sizes:
        layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
        width = size
    layers.append(nn.Linear(width, layout.n_classes))
    return nn.Sequential(*layers)


def build_cnn(layout: Layout, channels: tuple[int, ...], hidden_size: int) -> nn.Module:
    """Two blocks of ``3x3 conv -> ReLU -> 2x2 max-pool``, then a dense layer and the classes."""
    height, width = layout.feature_shape
    first, second = channels
    features = nn.Sequential(
        nn.Unflatten(1, (1, height)),
        nn.Conv2d(1, first, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(first, second, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.Flatten(),
    )
    size = features(torch.zeros(1, height, width)).shape[1]
    return nn.Sequential(
        features,
        nn.Linear(size, hidden_size),
        nn.ReLU(),
        nn.Linear(hidden_size, layout.n_classes),
    )


def init_weights(net: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default initialisation, drawn from ``generator`` instead of the global RNG."""
    for module in net.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(module.weight[0].numel())
            nn.init.uniform_(module.bias, -bound, bound, generator=generator)


def check_input_bounds(path: str, encoder_space: Any, mine: Any) -> None:
    """Refuses an mlp whose observations can fall outside the bounds of the autoencoder's (an
    encoder trained on pixels in [0, 1] would see standardised ones, say).

    Raises:
        ConfigError: The mlp's observation space is not a Box within the encoder's bounds.
    """
    low, high = float(np.min(encoder_space.low)), float(np.max(encoder_space.high))
    bounded = hasattr(mine, "low") and hasattr(mine, "high")
    if bounded and np.all(mine.low >= low) and np.all(mine.high <= high):
        return
    span = f"[{np.min(mine.low):g}, {np.max(mine.high):g}]" if bounded else str(mine)
    raise ConfigError(
        f"init_from={path!r}: its encoder learned from inputs in [{low:g}, {high:g}]; this env's "
        f"inputs span {span}. Scale them as the autoencoder's env did (for the classification "
        "env, --env-kwargs scale=minmax) so that the encoder sees the inputs it learned from."
    )


def jitter(
    x_BHW: torch.Tensor, generator: torch.Generator, max_shift: int, flip: bool
) -> torch.Tensor:
    """Shifts each image by up to ``max_shift`` pixels in each direction (filling with the
    background), and with ``flip`` mirrors a random half of them left to right."""
    batch, height, width = x_BHW.shape
    device = x_BHW.device
    if max_shift:
        pad = max_shift
        padded = F.pad(x_BHW, (pad, pad, pad, pad), value=float(x_BHW.min()))
        offsets = torch.randint(0, 2 * pad + 1, (2, batch), generator=generator).to(device)
        rows = offsets[0, :, None] + torch.arange(height, device=device)
        cols = offsets[1, :, None] + torch.arange(width, device=device)
        index = torch.arange(batch, device=device)[:, None, None]
        x_BHW = padded[index, rows[:, :, None], cols[:, None, :]]
    if flip:
        mirrored = (torch.rand(batch, generator=generator) < 0.5).to(device)
        x_BHW = torch.where(mirrored[:, None, None], x_BHW.flip(-1), x_BHW)
    return x_BHW


class Trainer:
    """Answers each batch with the network, then takes an Adam step on the revealed labels.

    Early stopping holds out a random ``validation_fraction`` of the split's samples, by their
    ``info["indices"]``: the trainer never learns from them, scores them after each epoch, and
    keeps the weights of the best epoch. At the end of each ``learn`` (:meth:`summary`) the
    network takes the best epoch's weights, for acting; the next training :meth:`answer` puts
    back the weights it was training, so learning ``2N`` steps at once or ``N`` and ``N`` gives
    the same network.

    Args:
        agent: The agent it learns for: its device, generator and loss record.
        config: The agent's hyperparameters; a :class:`CNNConfig` builds a CNN, a
            :class:`ResNetConfig` a residual network, else an MLP.
        layout: How the env's spaces lay out samples.
    """

    def __init__(
        self, agent: Agent, config: MLPConfig | CNNConfig | ResNetConfig, layout: Layout
    ) -> None:
        self.agent = agent
        self.config = config
        self.layout = layout
        self.device = resolve_device(agent.device)
        self.generator = torch.Generator().manual_seed(int(agent.np_random.integers(2**62)))
        self.augment: tuple[int, bool] | None = None
        """``(max_shift, flip)`` of the augmented copies learning uses, or None."""
        self.augment_only = False
        """Answer and learn on the augmented copy alone (the resnet), not on it and the batch
        (the cnn)."""
        if isinstance(config, ResNetConfig):
            from agents.supervised.residual import build_resnet, init_resnet

            self.net = build_resnet(layout, config.widths, config.blocks)
            init_resnet(self.net, self.generator)
            if config.augment:
                self.augment, self.augment_only = (config.max_shift, config.flip), True
        elif isinstance(config, CNNConfig):
            self.net = build_cnn(layout, config.channels, config.hidden_size)
            init_weights(self.net, self.generator)
            self.augment = (1, False) if config.augment else None
        else:
            self.net = build_mlp(layout, config.hidden_sizes, config.activation)
            init_weights(self.net, self.generator)
        self.net.to(self.device)
        self.optimizer = torch.optim.AdamW(
            self.net.parameters(),
            lr=config.learning_rate,
            weight_decay=config.weight_decay,
            foreach=True,
        )
        self.held_out: np.ndarray | None = None
        """Per sample of the train split: whether it is held out for validation."""
        self.slot: np.ndarray | None = None
        """Per sample: its row in the validation buffers ``val_x`` and ``val_y``."""
        self.epochs = 0
        self.best: tuple[float, float] | None = None
        self.best_epoch = 0
        self.bad_epochs = 0
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.training_weights: dict[str, torch.Tensor] | None = None
        """The weights training goes on from, while the network holds the best epoch's."""
        self.note = ""
        self.copied_layers: int | None = None
        """How many hidden layers ``init_from`` copied from an encoder (None: none asked)."""
        self._right = self._seen = 0
        """Right answers and learned rows in this epoch so far."""
        self.train_accuracy: float | None = None

    def start_from_encoder(self, path: str) -> None:
        """Copies an autoencoder checkpoint's encoder layers into the first hidden layers: as
        many, in order, as have the encoder's widths and learned with the mlp's activation (at
        least the first). The code layer is linear (sigmoid in ``sparse-ae``), so a relu mlp
        takes the encoder's hidden layers and learns its own layers from the code's width on.

        The encoder's features mean something only on inputs scaled as it learned them: an
        autoencoder learns from inputs in its env's bounds, [0, 1], so the mlp's env must keep
        its inputs there too (the classification env's ``scale="minmax"`` gives digits the
        same ``pixel / 16`` as the reconstruction env; the default ``"standard"`` does not).

        Raises:
            ConfigError: ``path`` holds another kind of agent, its first layer does not match
                the mlp's (width or activation), or the mlp's inputs lie outside the bounds of
                the inputs the autoencoder learned from.
            CheckpointError: ``path`` is not a readable checkpoint.
        """
        from agents.autoencoder.agent import AutoencoderAgent
        from arena import load

        source = load(path, device="cpu")
        if not isinstance(source, AutoencoderAgent):
            raise ConfigError(
                f"init_from={path!r} holds a {source.name} checkpoint; it needs an autoencoder's "
                "(ae, sparse-ae or denoising-ae)."
            )
        check_input_bounds(path, source.observation_space, self.agent.observation_space)
        layers = source.encoder_layers()
        widths = [layers[0][0].shape[1], *(weight.shape[0] for weight, _ in layers)]
        hidden = [m for m in self.net if isinstance(m, nn.Linear)][:-1]
        mine = [hidden[0].in_features, *(m.out_features for m in hidden)]
        shared = 0
        while shared < min(len(widths), len(mine)) and widths[shared] == mine[shared]:
            shared += 1
        if shared < 2:
            raise ConfigError(
                f"init_from={path!r}: its encoder's layers are {' -> '.join(map(str, widths))}; "
                f"the mlp's start {' -> '.join(map(str, mine))}. Give it the same inputs and "
                f"hidden_sizes that begin with {widths[1]}."
            )
        # A layer's features are what its activation makes of them: copy only the layers that
        # keep the activation they learned with (the code layer is linear, or sigmoid).
        activations = source.encoder_activations()
        copied = 0
        while copied < shared - 1 and activations[copied] == self.config.activation:
            copied += 1
        if copied == 0:
            raise ConfigError(
                f"init_from={path!r}: its encoder's first layer learned with "
                f"{activations[0]}; this mlp's activation is {self.config.activation}. Give it "
                f"activation={activations[0]}."
            )
        with torch.no_grad():
            for module, (weight, bias) in zip(hidden, layers[:copied], strict=False):
                module.weight.copy_(torch.as_tensor(weight))
                module.bias.copy_(torch.as_tensor(bias))
        self.copied_layers = copied

    # -- acting ---------------------------------------------------------------------------

    @torch.no_grad()
    def predict(self, x_B: np.ndarray) -> np.ndarray:
        self.net.eval()
        logits = self.net(torch.as_tensor(x_B, device=self.device))
        return logits.argmax(dim=1).cpu().numpy()

    # -- the game loop's hooks ------------------------------------------------------------

    def start_episode(self, info: dict[str, Any]) -> None:
        self._right = self._seen = 0
        if not self.config.early_stopping:
            return
        size = info.get("size")
        if not isinstance(size, (int, np.integer)):
            self.note = "early stopping off: the env's reset info gives no 'size'"
            return
        if self.held_out is None or len(self.held_out) != size:
            count = min(max(round(self.config.validation_fraction * size), 1), size - 1)
            self.held_out = np.zeros(size, bool)
            self.held_out[self.agent.np_random.permutation(size)[:count]] = True
            self.best = None
            self.bad_epochs = 0
        if self.slot is None or len(self.slot) != size:
            self.make_validation_buffers()

    def make_validation_buffers(self) -> None:
        """Empty buffers for the held-out samples, and each sample's row in them."""
        self.slot = np.cumsum(self.held_out) - 1
        count = int(self.held_out.sum())
        self.val_x = torch.zeros((count, *self.layout.feature_shape), device=self.device)
        self.val_y = torch.zeros(count, dtype=torch.long, device=self.device)
        self.val_seen = np.zeros(count, bool)

    def answer(self, x_B: np.ndarray) -> tuple[np.ndarray, Any]:
        if self.training_weights is not None:
            self.net.load_state_dict(self.training_weights)
            self.training_weights = None
        if not self.net.training:
            self.net.train()
        x = torch.as_tensor(x_B, device=self.device)
        # The resnet answers, and learns, on the augmented view: one forward pass a step.
        view = jitter(x, self.generator, *self.augment) if self.augment_only else x
        logits = self.net(view)
        answers = logits.argmax(dim=1).cpu().numpy()
        return answers, (x, logits, answers)

    def learn(self, context: tuple[Any, ...], info: dict[str, Any]) -> None:
        x, logits, answers = context
        labels, learn = info_arrays(info, len(x))
        if self.held_out is not None and "indices" in info:
            indices = np.asarray(info["indices"])
            held = self.held_out[indices] & learn
            if not self.val_seen.all() and held.any():
                slots = self.slot[indices[held]]
                self.val_x[slots] = x[torch.from_numpy(held).to(self.device)]
                self.val_y[slots] = torch.from_numpy(labels[held]).to(self.device)
                self.val_seen[slots] = True
            learn = learn & ~held
        count = int(learn.sum())
        if count == 0:
            return
        self._right += int(np.count_nonzero((answers == labels) & learn))
        self._seen += count
        y = torch.from_numpy(labels).to(self.device)
        if self.augment is None or self.augment_only:
            loss = self.loss(logits, y, learn, count)
        else:
            augmented = self.net(jitter(x, self.generator, *self.augment))
            loss = (self.loss(logits, y, learn, count) + self.loss(augmented, y, learn, count)) / 2
        if isinstance(self.config, DecayConfig):
            fraction = self.config.learning_rate_fraction(self.agent.num_timesteps)
            for group in self.optimizer.param_groups:
                group["lr"] = self.config.learning_rate * fraction
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.agent.record_loss(loss)

    def loss(
        self, logits: torch.Tensor, y: torch.Tensor, learn: np.ndarray, count: int
    ) -> torch.Tensor:
        """The mean cross-entropy over the rows to learn from (a weighted sum, not a gather)."""
        smoothing = self.config.label_smoothing
        if count == len(learn):
            return F.cross_entropy(logits, y, label_smoothing=smoothing)
        losses = F.cross_entropy(logits, y, label_smoothing=smoothing, reduction="none")
        return (losses * torch.from_numpy(learn).to(losses)).sum() / count

    def end_episode(self) -> bool:
        self.epochs += 1
        if self._seen:
            self.train_accuracy = self._right / self._seen
        if self.held_out is None or not self.val_seen.all():
            return False
        score = self.validation_score()
        if self.best is None or score > self.best:
            self.best, self.best_epoch, self.bad_epochs = score, self.epochs, 0
            self.best_weights = clone(self.net.state_dict())
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.config.patience

    @torch.no_grad()
    def validation_score(self) -> tuple[float, float]:
        """(accuracy, minus the cross-entropy) on the held-out slice: higher is better."""
        self.net.eval()
        logits = self.net(self.val_x)
        accuracy = float((logits.argmax(dim=1) == self.val_y).float().mean())
        return accuracy, -float(F.cross_entropy(logits, self.val_y))

    def summary(self) -> dict[str, Any]:
        """Restores the best weights seen, and says what learning did, for ``learn_info``."""
        info: dict[str, Any] = {"epochs": self.epochs, "train_accuracy": self.train_accuracy}
        if self.best_weights is not None and self.training_weights is None:
            self.training_weights = clone(self.net.state_dict())
            self.net.load_state_dict(self.best_weights)
        if self.best is not None:
            info["best_epoch"] = self.best_epoch
            info["validation_accuracy"] = self.best[0]
            info["stopped_early"] = self.bad_epochs >= self.config.patience
        if self.copied_layers is not None:
            info["init_from_layers"] = self.copied_layers
        if self.note:
            info["note"] = self.note
        return info

    # -- checkpoints ----------------------------------------------------------------------

    def state(self) -> dict[str, torch.Tensor]:
        """The network, optimizer and generator; with early stopping, the best epoch's weights,
        the weights training goes on from (between ``learn`` calls), the held-out samples and
        their buffers (so that a run resumed mid-epoch validates on the same slice)."""
        tensors = {f"net.{k}": v for k, v in self.net.state_dict().items()}
        optimizer_tensors, _ = optimizer_state(self.optimizer, "optimizer")
        tensors.update(optimizer_tensors)
        tensors["generator"] = self.generator.get_state()
        for prefix, weights in (("best.", self.best_weights), ("training.", self.training_weights)):
            tensors.update({prefix + k: v for k, v in (weights or {}).items()})
        if self.held_out is not None:
            tensors["held_out"] = torch.from_numpy(self.held_out.astype(np.uint8))
        if self.slot is not None:
            tensors["val_x"], tensors["val_y"] = self.val_x, self.val_y
            tensors["val_seen"] = torch.from_numpy(self.val_seen.astype(np.uint8))
        return tensors

    def extra_state(self) -> dict[str, Any]:
        _, optimizer_extra = optimizer_state(self.optimizer, "optimizer")
        return {
            "optimizer": optimizer_extra,
            "epochs": self.epochs,
            "best": list(self.best) if self.best is not None else None,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "right": self._right,
            "seen": self._seen,
            "train_accuracy": self.train_accuracy,
        }

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        self.net.load_state_dict(_prefixed(arrays, "net."))
        load_optimizer_state(self.optimizer, "optimizer", arrays, extra["optimizer"])
        if "generator" in arrays:  # absent in checkpoints from before exact resume
            self.generator.set_state(arrays["generator"].cpu())
        if "held_out" in arrays:
            self.held_out = arrays["held_out"].cpu().numpy().astype(bool)
        if "val_seen" in arrays:  # absent in checkpoints from before exact resume
            self.make_validation_buffers()
            self.val_x.copy_(arrays["val_x"])
            self.val_y.copy_(arrays["val_y"])
            self.val_seen[:] = arrays["val_seen"].cpu().numpy().astype(bool)
        self.epochs = int(extra.get("epochs", 0))
        best = extra.get("best")
        self.best = (float(best[0]), float(best[1])) if best else None
        self.best_epoch = int(extra.get("best_epoch", 0))
        self.bad_epochs = int(extra.get("bad_epochs", 0))
        self._right = int(extra.get("right", 0))
        self._seen = int(extra.get("seen", 0))
        accuracy = extra.get("train_accuracy")
        self.train_accuracy = None if accuracy is None else float(accuracy)
        self.best_weights = _prefixed(arrays, "best.") or None
        if self.best_weights is None and self.best is not None:
            # Checkpoints from before exact resume: the network held the best epoch's weights.
            self.best_weights = clone(self.net.state_dict())
        self.training_weights = _prefixed(arrays, "training.") or None


def clone(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A copy of a state dict."""
    return {k: v.clone() for k, v in weights.items()}


def _prefixed(arrays: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The entries of ``arrays`` whose names start with ``prefix``, without it."""
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
