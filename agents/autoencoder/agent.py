"""Autoencoders that play ``arena/Reconstruction-v0``: ``ae``, ``sparse-ae`` and ``denoising-ae``.

Each env step shows a batch of inputs (corrupted or not); the agent answers with its
reconstructions, and learns in the core loop (:mod:`arena.rollout`) from what the step shows
and reveals: one Adam step per batch. All three are encoders (:class:`arena.capabilities.Encoder`):
``arena encode`` writes their codes. The networks live in :mod:`.networks`, imported when an
agent is built; the hyperparameters in :mod:`.config`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from gymnasium import spaces

from agents.autoencoder.config import AutoencoderConfig, DenoisingConfig, SparseConfig
from arena.agent import Agent
from arena.capabilities import Encoder
from arena.errors import IncompatibleEnvError
from arena.rollout import Transition
from arena.sizes import FLOAT32, adam_bytes, dense_parameters

if TYPE_CHECKING:
    from agents.autoencoder.networks import Trainer

NEEDS = "a Box observation in [0, 1] of shape (D,) or (B, D) and a Box action of the same shape"


class AutoencoderAgent(Agent, Encoder):
    """An autoencoder: an MLP encoder to a code of ``code_size`` units and a decoder back.

    The plain one (``ae``) answers each batch with the decoder's reconstructions (sigmoid
    outputs, in [0, 1]) and learns to reproduce the inputs it is shown: the mean squared error
    of the reconstructions against the observation itself, one Adam step per env step. On a
    noisy env it therefore learns to reproduce the corruption too; ``denoising-ae`` learns the
    clean inputs instead.

    An observation of shape ``(D,)`` is one input; ``(B, D)`` is a batch of B inputs.
    """

    name = "ae"
    Config = AutoencoderConfig
    presets = "ae_presets.toml"
    uses_torch = True

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Space, **kwargs: Any
    ) -> None:
        super().__init__(observation_space, action_space, **kwargs)
        from agents.autoencoder.networks import Trainer

        self.dim = observation_space.shape[-1]
        self.trainer: Trainer = Trainer(
            self.config, self.dim, self.device, int(self.np_random.integers(2**62))
        )

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        if not (
            isinstance(observation_space, spaces.Box)
            and len(observation_space.shape) in (1, 2)
            and np.all(observation_space.low >= 0)
            and np.all(observation_space.high <= 1)
        ):
            raise cls.incompatible(NEEDS, observation_space)
        if not (
            isinstance(action_space, spaces.Box)
            and action_space.shape == observation_space.shape
            and np.all(action_space.low <= 0)
            and np.all(action_space.high >= 1)
        ):
            raise cls.incompatible(NEEDS + " whose bounds hold [0, 1]", action_space)

    @classmethod
    def memory_needed(
        cls,
        config: AutoencoderConfig,
        observation_space: spaces.Space,
        action_space: spaces.Space,
    ) -> dict[str, int]:
        """The encoder and decoder with Adam's copies, and a batch's activations and their
        gradients."""
        dim = observation_space.shape[-1]
        batch = math.prod(observation_space.shape[:-1])
        hidden = list(config.hidden_sizes)
        widths = [dim, *hidden, config.code_size, *hidden[::-1], dim]
        params = dense_parameters(widths[: len(hidden) + 2]) + dense_parameters(
            widths[len(hidden) + 1 :]
        )
        activations = 2 * batch * sum(widths) * FLOAT32
        what = f"networks (hidden_sizes={hidden}, code_size={config.code_size})"
        return {what: adam_bytes(params) + activations}

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One flat input, ``(D,)``."""
        return (self.dim,)

    def encode(self, batch: np.ndarray) -> np.ndarray:
        """The codes of ``(n, D)`` inputs, ``(n, code_size)`` float32 (sigmoid units in
        ``sparse-ae``, linear in the others)."""
        return self.trainer.encode(batch)

    def encoder_layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The encoder's dense layers, input side first, as ``(weight (out, in), bias (out,))``
        float32 arrays: ReLU follows each but the code layer (a sigmoid in ``sparse-ae``). An
        ``mlp`` starts from them with ``init_from``."""
        return self.trainer.encoder_layers()

    def encoder_activations(self) -> list[str]:
        """The activation after each of :meth:`encoder_layers`: ``"relu"`` after the hidden
        layers, ``"linear"`` after the code layer (``"sigmoid"`` in ``sparse-ae``)."""
        return self.trainer.encoder_activations()

    def reconstruct(self, batch: np.ndarray) -> np.ndarray:
        """The reconstructions of ``(n, D)`` inputs, float32 in [0, 1]."""
        return self.trainer.reconstruct(batch)

    def act(self, observation: np.ndarray, explore: bool = False) -> np.ndarray:
        """The reconstruction of each input in the observation, in its shape."""
        x_BD = np.asarray(observation, np.float32).reshape(-1, self.dim)
        return self.trainer.reconstruct(x_BD).reshape(self.action_space.shape)

    def observe(self, transition: Transition) -> None:
        """One Adam step on the batch just answered."""
        x_BD = np.asarray(transition.observation, np.float32).reshape(-1, self.dim)
        self.record_loss(self.train_step(x_BD, transition.info))

    def train_step(self, x_BD: np.ndarray, info: dict[str, Any]) -> Any:
        """One update on the inputs shown, ``x_BD``; the plain autoencoder's target is ``x_BD``
        itself. Returns the loss."""
        return self.trainer.update(x_BD, x_BD, corrupt_input=False)

    def state(self) -> dict[str, Any]:
        return self.trainer.state()

    def state_allowance(self) -> int:
        """Adam's moments, which its state gains at the first update."""
        from arena.torch_utils import optimizer_state_bytes

        return optimizer_state_bytes(self.trainer.optimizer)

    def extra_state(self) -> dict[str, Any]:
        return self.trainer.extra_state()

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        self.trainer.load_state(arrays, extra)


class SparseAutoencoder(AutoencoderAgent):
    """A sparse autoencoder: sigmoid code units and a penalty that keeps them mostly off.

    The penalty (``sparsity``) is Ng's KL divergence between a target mean activation ``rho``
    and each code unit's mean activation over the batch, summed over the units, or the L1 norm
    of the code; ``sparsity_weight`` weighs it beside the reconstruction error.
    """

    name = "sparse-ae"
    Config = SparseConfig
    presets = "sparse_ae_presets.toml"


class DenoisingAutoencoder(AutoencoderAgent):
    """A denoising autoencoder (Vincent et al., 2008): rebuilds clean inputs from corrupted ones.

    Its target is the clean batch that the env reveals after each step (``info["clean"]``), and
    its input is the batch it was shown: corrupted by the env on ``arena/DigitsDenoise-v0``.
    When the inputs shown are the clean ones (an env without noise), it corrupts them itself
    (``noise``, ``p``, ``sigma``; masking 25% by default) with its own torch generator.
    """

    name = "denoising-ae"
    Config = DenoisingConfig
    presets = "denoising_ae_presets.toml"

    def train_step(self, x_BD: np.ndarray, info: dict[str, Any]) -> Any:
        """One update towards ``info["clean"]``, from ``x_BD``, corrupted here if it is clean."""
        if "clean" not in info:
            raise IncompatibleEnvError(
                self.name, 'an env that reveals the clean inputs in info["clean"]', "none"
            )
        clean_BD = np.asarray(info["clean"], np.float32).reshape(x_BD.shape)
        shown_clean = bool(np.array_equal(x_BD, clean_BD))
        return self.trainer.update(x_BD, clean_BD, corrupt_input=shown_clean)
