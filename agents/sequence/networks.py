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
    Transformer's cache of the last K - 1 keys and values). While learning, ``train_step``
    predicts instead and ``observe`` takes the truth of the last step, learning once a window
    is full or the episode ends. A training episode whose observations are known up front
    (``begin_episode(observations)``) computes each window's predictions in one pass, which is
    the same game for a causal net; otherwise the window's inputs are kept and run again to
    learn.

    What a window in progress needs is in :meth:`state`: the memory at its start, its truths
    and (step by step) its inputs, so that a loaded model predicts and learns bitwise as the
    saved one would have: it runs the window again on its first ``train_step``.

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
        self.x_L: torch.Tensor | None = None  # the episode's inputs, when known up front
        self.chunk: tuple[int, torch.Tensor, np.ndarray, Any] | None = None
        self.stale = False  # ``hidden`` is to be run again from ``window_start`` and ``inputs``
        self.mode: str | None = None  # "inputs known" or "step by step", in a training episode

    def begin_episode(self, observations: np.ndarray | None) -> None:
        """Starts a training episode, with all its observations when they are known up front."""
        self.reset()
        self.mode = "step by step" if observations is None else "inputs known"
        if observations is not None:
            self.x_L = self.episode_inputs(observations)

    def _input(self, observation: Any) -> torch.Tensor:
        layout = self.layout
        if layout.vocab is not None:
            x_B = np.asarray(observation, dtype=np.int64).reshape(layout.streams)
            return torch.as_tensor(x_B, device=self.device)
        x_BD = np.asarray(observation, dtype=np.float32).reshape(layout.streams, layout.in_dim)
        return torch.as_tensor(x_BD, device=self.device)

    @torch.no_grad()
    def step(self, observation: Any, keep: bool = False) -> np.ndarray:
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

    def train_step(self, observation: Any, t: int) -> np.ndarray:
        """The outputs for step ``t`` of a training episode, keeping what learning needs.

        With the episode's inputs known, the window's outputs come from one pass, computed at
        its first step (or at the first step after a load); otherwise from :meth:`step`.
        """
        if self.x_L is None:
            if self.stale:
                with torch.no_grad():
                    self.hidden = self.window_start
                    for x in self.inputs:
                        _, self.hidden = self.net(x[None], self.hidden)
                self.stale = False
            return self.step(observation, keep=True)
        start = t - len(self.truths)
        if self.chunk is None or self.chunk[0] != start:
            stop = min(start + self.window, len(self.x_L))
            out_NBO, state = self.net(self.x_L[start:stop], self.window_start)
            self.chunk = (start, out_NBO, out_NBO.detach().float().cpu().numpy(), _detach(state))
        return self.chunk[2][t - start]

    def observe(self, truth_B: np.ndarray, scored_B: np.ndarray, done: bool) -> torch.Tensor | None:
        """Takes the truth of the last step's prediction; learns when a window is full or done.

        Returns:
            The loss of the update it made (see :meth:`fit`), or None.
        """
        self.truths.append(np.asarray(truth_B))
        self.scored.append(np.asarray(scored_B, dtype=bool))
        if not done and len(self.truths) < self.window:
            return None
        if self.chunk is not None:
            out_NBO = self.chunk[1][: len(self.truths)]
            self.window_start, self.chunk = self.chunk[3], None
        else:
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

    def state(self) -> dict[str, Any]:
        """The weights, Adam's moments, and the window in progress, for safetensors."""
        tensors, _ = optimizer_state(self.optimizer, "optimizer")
        weights = {f"net.{k}": v for k, v in self.net.state_dict().items()}
        return {**weights, **tensors, **self._window_state()}

    def _window_state(self) -> dict[str, Any]:
        """The window in progress: the memory at its start, its truths, and its inputs."""
        found: dict[str, Any] = {
            f"window.start.{i}": t for i, t in enumerate(_flatten(self.window_start))
        }
        if self.truths:
            found["window.truths"] = np.stack(self.truths)
            found["window.scored"] = np.stack(self.scored)
        if self.inputs:
            found["window.inputs"] = torch.stack(self.inputs)
        return found

    def window_bytes(self) -> int:
        """The most bytes :meth:`_window_state` holds (for the checkpoint reader's limit)."""
        c, layout, B = self.config, self.layout, self.layout.streams
        if self.kind == "transformer":
            start = c.num_layers * 2 * B * (c.context - 1) * c.d_model
        else:
            start = (2 if self.kind == "lstm" else 1) * c.num_layers * B * c.hidden_size
        step = B * (8 + 1 + 8 * layout.in_dim)  # a truth, scored, and an input, at most
        return 4 * start + self.window * step

    def extra_state(self) -> dict[str, Any]:
        """Adam's step counts and settings, and the window in progress: how it predicts."""
        return {
            "optimizer": optimizer_state(self.optimizer, "optimizer")[1],
            "window": self.mode,
        }

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        """Restores :meth:`state` and :meth:`extra_state`, the window in progress included."""
        weights = {k[len("net.") :]: v for k, v in arrays.items() if k.startswith("net.")}
        self.net.load_state_dict(weights)
        load_optimizer_state(self.optimizer, "optimizer", arrays, extra["optimizer"])
        self.reset()
        self._load_window(arrays, extra.get("window"))

    def _load_window(self, arrays: dict[str, Any], mode: Any) -> None:
        """Restores the window in progress that :meth:`_window_state` saved, checking it."""
        count = {"rnn": 1, "gru": 1, "lstm": 2}.get(self.kind, 2 * self.config.num_layers)
        starts = [arrays.get(f"window.start.{i}") for i in range(count)]
        truths, scored = arrays.get("window.truths"), arrays.get("window.scored")
        inputs = arrays.get("window.inputs")
        if mode is None:  # between episodes, or a checkpoint from before exact resume
            if any(k.startswith("window.") for k in arrays):
                raise ValueError("it holds a window in progress, but no episode is open")
            return
        if mode not in ("inputs known", "step by step"):
            raise ValueError(f"its window is 'inputs known' or 'step by step', not {mode!r}")
        if any(s is not None for s in starts):
            self.window_start = self._start(starts)
        n = 0 if truths is None else len(truths)
        B = self.layout.streams
        if truths is not None and (
            truths.shape != (n, B) or scored is None or scored.shape != (n, B) or n >= self.window
        ):
            raise ValueError(f"its window's truths and scored must be ({n} < window, {B}) arrays")
        shape = (n, B) if self.layout.vocab is not None else (n, B, self.layout.in_dim)
        if mode == "step by step" and n:
            if inputs is None or tuple(inputs.shape) != shape:
                raise ValueError(f"its window's inputs must have the shape {shape}")
            self.inputs = list(torch.as_tensor(inputs, device=self.device).unbind(0))
        elif inputs is not None:
            raise ValueError("its window holds inputs that it does not use")
        self.truths = list(_numpy(truths)) if n else []
        self.scored = [s.astype(bool) for s in _numpy(scored)] if n else []
        self.mode = mode
        self.stale = mode == "step by step"

    def _start(self, starts: list[Any]) -> Any:
        """The memory at a window's start, from its saved tensors, checked."""
        c, B = self.config, self.layout.streams
        if any(s is None for s in starts):
            raise ValueError(f"its window's memory must be {len(starts)} tensors")
        tensors = [torch.as_tensor(s, device=self.device) for s in starts]
        if self.kind == "transformer":
            M = tensors[0].shape[2] if tensors[0].dim() == 4 else -1
            shape = (B, c.num_heads, M, c.d_model // c.num_heads)
            if not 1 <= M < c.context or any(tuple(t.shape) != shape for t in tensors):
                raise ValueError(f"its window's memory must be {len(tensors)} tensors {shape}")
            return tuple(zip(tensors[0::2], tensors[1::2], strict=True))
        shape = (c.num_layers, B, c.hidden_size)
        if any(tuple(t.shape) != shape for t in tensors):
            raise ValueError(f"its window's memory must be {len(tensors)} tensors {shape}")
        return tuple(tensors) if self.kind == "lstm" else tensors[0]


def _flatten(state: Any) -> list[torch.Tensor]:
    """The tensors of a memory (None, a tensor, or nested tuples of them), depth first."""
    if state is None:
        return []
    if isinstance(state, tuple):
        return [t for s in state for t in _flatten(s)]
    return [state]


def _numpy(array: Any) -> np.ndarray:
    return array.cpu().numpy() if isinstance(array, torch.Tensor) else np.asarray(array)


def _detach(state: Any) -> Any:
    """Cuts a state (a tensor, or nested tuples of them) from the graph."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(_detach(s) for s in state)
    return state.detach()
