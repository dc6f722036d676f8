"""The torch side of the sequence agents: the networks, their memory, and how they learn.

Imported only when a sequence agent is built, so that ``arena list`` does not load torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from agents.sequence.config import Layout, RecurrentConfig, TransformerConfig
from arena.torch_utils import load_optimizer_state, optimizer_state, resolve_device

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentNet(nn.Module):
    """Embedding (symbol inputs), a stacked RNN, LSTM or GRU, and a linear head."""

    def __init__(self, kind: str, layout: Layout, config: RecurrentConfig) -> None:
        super().__init__()
        if layout.vocab is not None:
            self.embed = nn.Embedding(layout.vocab, config.embedding_dim)
            in_size = config.embedding_dim
        else:
            self.embed = None
            in_size = layout.in_dim
        self.rnn = _CELLS[kind](in_size, config.hidden_size, config.num_layers)
        if kind == "lstm":  # Forget gates start open (bias 1), which helps long lags.
            hidden = config.hidden_size
            for name, bias in self.rnn.named_parameters():
                if name.startswith("bias_"):
                    with torch.no_grad():
                        bias[hidden : 2 * hidden] = 1.0 if name.startswith("bias_ih") else 0.0
        self.head = nn.Linear(config.hidden_size, layout.out_dim)

    def forward(self, x_LB: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """Runs ``L`` steps of ``B`` streams from ``state`` (None: zeros): outputs, new state."""
        h_LBE = self.embed(x_LB) if self.embed is not None else x_LB
        y_LBH, state = self.rnn(h_LBE, state)
        return self.head(y_LBH), state


class Block(nn.Module):
    """A pre-norm Transformer block whose attention sees at most the last ``K`` positions.

    Positions enter only as ALiBi biases on the attention (minus a per-head slope times the
    distance), so a block can run a chunk of steps after a cache of the previous keys and
    values, exactly as it runs one step after another.
    """

    def __init__(self, d: int, heads: int, context: int) -> None:
        super().__init__()
        self.heads = heads
        self.context = context
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        slopes = 2.0 ** (-8.0 * torch.arange(1, heads + 1) / heads)
        self.register_buffer("slopes", slopes[:, None, None], persistent=False)

    def forward(self, x_BND: torch.Tensor, cache: Any) -> tuple[torch.Tensor, Any]:
        """Runs ``N`` new positions after ``cache``, the keys and values of up to K - 1 earlier
        ones (None at an episode start); returns the outputs and the new cache."""
        B, N, D = x_BND.shape
        q, k, v = self.qkv(self.norm1(x_BND)).view(B, N, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        if cache is not None:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        M = k.shape[2] - N
        query = torch.arange(M, M + N, device=x_BND.device)[:, None]
        key = torch.arange(M + N, device=x_BND.device)[None, :]
        distance = (query - key).float()
        visible = (distance >= 0) & (distance < self.context)
        bias = torch.where(visible, -self.slopes * distance, float("-inf"))
        attended = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x_BND = x_BND + self.proj(attended.transpose(1, 2).reshape(B, N, D))
        x_BND = x_BND + self.mlp(self.norm2(x_BND))
        keep = self.context - 1
        return x_BND, (k[:, :, -keep:], v[:, :, -keep:])


class CausalTransformer(nn.Module):
    """Token or value embedding, sliding-window causal blocks, a final norm and a linear head.

    Its memory is each block's cache of the last K - 1 keys and values: like a recurrent net it
    runs time-major chunks from a state and returns the new one.
    """

    def __init__(self, layout: Layout, config: TransformerConfig) -> None:
        super().__init__()
        d = config.d_model
        if layout.vocab is not None:
            self.embed: nn.Module = nn.Embedding(layout.vocab, d)
        else:
            self.embed = nn.Linear(layout.in_dim, d)
        self.blocks = nn.ModuleList(
            Block(d, config.num_heads, config.context) for _ in range(config.num_layers)
        )
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, layout.out_dim)

    def forward(self, x_LB: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """Runs ``L`` steps of ``B`` streams after ``state`` (None: an episode start)."""
        h_BLD = self.embed(x_LB.transpose(0, 1))
        caches = []
        for i, block in enumerate(self.blocks):
            h_BLD, cache = block(h_BLD, None if state is None else state[i])
            caches.append(cache)
        return self.head(self.norm(h_BLD)).transpose(0, 1), tuple(caches)


class SequenceModel:
    """A network with its memory of the current episode and its learning step.

    ``step`` predicts from one observation and advances the memory (the recurrent state, or the
    Transformer's cache of the last K - 1 keys and values); ``observe`` takes the truth of the
    last step and learns once a window is full or the episode ends.

    Args:
        kind: ``"rnn"``, ``"lstm"``, ``"gru"`` or ``"transformer"``.
        layout: The streams' layout in the env's spaces.
        config: The agent's config.
        device: ``"auto"`` or a torch device string.
        seed: Seeds the weights' initialization (inside ``fork_rng``: the global RNG is untouched).
    """

    def __init__(
        self,
        kind: str,
        layout: Layout,
        config: RecurrentConfig | TransformerConfig,
        device: str,
        seed: int,
    ) -> None:
        self.kind = kind
        self.layout = layout
        self.config = config
        self.device = resolve_device(device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if kind == "transformer":
                net: nn.Module = CausalTransformer(layout, config)
            else:
                net = RecurrentNet(kind, layout, config)
        self.net = net.to(self.device)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.learning_rate)
        self.window = config.window
        self.reset()

    def reset(self) -> None:
        """Forgets the episode: the memory, and the steps not learned from yet."""
        self.hidden: Any = None
        self.window_start: Any = None
        self.inputs: list[torch.Tensor] = []
        self.truths: list[np.ndarray] = []
        self.scored: list[np.ndarray] = []

    def _input(self, observation: Any) -> torch.Tensor:
        layout = self.layout
        if layout.vocab is not None:
            x_B = np.asarray(observation, dtype=np.int64).reshape(layout.streams)
            return torch.as_tensor(x_B, device=self.device)
        x_BD = np.asarray(observation, dtype=np.float32).reshape(layout.streams, layout.in_dim)
        return torch.as_tensor(x_BD, device=self.device)

    @torch.no_grad()
    def step(self, observation: Any, keep: bool) -> np.ndarray:
        """Returns the ``(B, out_dim)`` outputs for one observation and advances the memory.

        Args:
            observation: One observation of the env.
            keep: Keep the input to learn from (training); else only the memory needs it.
        """
        x = self._input(observation)
        out_1BO, self.hidden = self.net(x[None], self.hidden)
        if keep:
            self.inputs.append(x)
        out_BO = out_1BO[0]
        return out_BO.float().cpu().numpy()

    def observe(self, truth_B: np.ndarray, scored_B: np.ndarray, done: bool) -> torch.Tensor | None:
        """Takes the truth of the last step's prediction; learns when a window is full or done.

        Returns:
            The loss of the update it made (see :meth:`fit`), or None.
        """
        self.truths.append(np.asarray(truth_B))
        self.scored.append(np.asarray(scored_B, dtype=bool))
        if done or len(self.truths) >= self.window:
            return self.learn_pending()
        return None

    def learn_pending(self) -> torch.Tensor | None:
        """Learns from the steps taken since the last update, if any, by running them again.

        Returns:
            The loss of the update (see :meth:`fit`), or None.
        """
        if not self.truths:
            return None
        out_NBO, _ = self.net(torch.stack(self.inputs), self.window_start)
        self.window_start = _detach(self.hidden)
        self.inputs = []
        loss = self.fit(out_NBO, self.truths, self.scored)
        self.truths, self.scored = [], []
        return loss

    def episode_inputs(self, observations: np.ndarray) -> torch.Tensor:
        """The network's inputs for a whole episode's ``(L, B[, D])`` observations."""
        dtype = torch.int64 if self.layout.vocab is not None else torch.float32
        return torch.as_tensor(np.asarray(observations), dtype=dtype, device=self.device)

    def chunk_outputs(self, x_L: torch.Tensor, start: int, end: int) -> torch.Tensor:
        """The ``(end - start, B, out_dim)`` outputs for steps ``start`` to ``end`` of an episode.

        The net runs from the state the previous chunk left and keeps the new one, detached;
        gradients flow within the chunk, for :meth:`fit`.
        """
        out_NBO, state = self.net(x_L[start:end], self.window_start)
        self.window_start = _detach(state)
        return out_NBO

    def fit(
        self, out_NBO: torch.Tensor, truths: list[np.ndarray], scored: list[np.ndarray]
    ) -> torch.Tensor | None:
        """One Adam step on the loss of the scored predictions among ``out_NBO``, if any.

        Returns:
            The loss, detached, or None when no prediction was scored.
        """
        truth_NB = torch.as_tensor(np.stack(truths), device=self.device)
        scored_NB = torch.as_tensor(np.stack(scored).astype(bool), device=self.device)
        if not bool(scored_NB.any()):
            return None
        if self.layout.out == "value":
            pred = out_NBO[..., 0][scored_NB]
            loss = nn.functional.mse_loss(pred, truth_NB[scored_NB].float())
        else:
            loss = nn.functional.cross_entropy(out_NBO[scored_NB], truth_NB[scored_NB].long())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        return loss.detach()

    def state(self) -> dict[str, torch.Tensor]:
        """The weights and Adam's moments, for safetensors."""
        tensors, _ = optimizer_state(self.optimizer, "optimizer")
        weights = {f"net.{k}": v for k, v in self.net.state_dict().items()}
        return {**weights, **tensors}

    def extra_state(self) -> dict[str, Any]:
        """Adam's step counts and settings."""
        return {"optimizer": optimizer_state(self.optimizer, "optimizer")[1]}

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        """Restores :meth:`state` and :meth:`extra_state`; starts a fresh episode."""
        weights = {k[len("net.") :]: v for k, v in arrays.items() if k.startswith("net.")}
        self.net.load_state_dict(weights)
        load_optimizer_state(self.optimizer, "optimizer", arrays, extra["optimizer"])
        self.reset()


def _detach(state: Any) -> Any:
    """Cuts a state (a tensor, or nested tuples of them) from the graph."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(_detach(s) for s in state)
    return state.detach()
