"""Sequence models as agents: RNN, LSTM and GRU with truncated BPTT, and a causal Transformer.

They play next-step prediction games such as ``arena/SequencePrediction-v0``: each step they
see the current element of ``B`` streams and predict the next, and they learn from the truth
that the env reveals in ``info["truth"]`` (where ``info["scored"]`` says the prediction
counted). The streams' layout is read from the spaces alone:

- observations: symbol ids (``Discrete(n)`` or ``MultiDiscrete([n] * B)``) or numbers (a 1-D
  ``Box`` of ``B * D`` values, ``D`` per stream);
- actions: symbols (``Discrete`` or ``MultiDiscrete``, learned with cross-entropy), a number
  per stream (a ``Box`` of ``B`` values, learned by squared error), or, with symbol
  observations, a score per symbol (a ``Box`` of ``B * n`` values in [-1, 1], where
  ``softmax(10 * score)`` is the predicted distribution, learned with cross-entropy).

This module stays light (``arena list`` imports it); the torch code is in :mod:`.networks`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from agents.sequence.config import Layout, RecurrentConfig, TransformerConfig
from arena.agent import Agent
from arena.callbacks import Callback
from arena.errors import IncompatibleEnvError
from arena.sizes import FLOAT32, adam_bytes, dense_parameters

if TYPE_CHECKING:
    from arena.rollout import Transition

SCORE_SCALE = 10.0
"""The score actions' protocol, stated in this module's docstring: a game reads an action of
scores in [-1, 1] as the distribution softmax(10 * score), so the agent divides its logits by 10."""


def _symbols(space: spaces.Space) -> tuple[int, int] | None:
    """(streams, symbol count) of a Discrete or equal-sized 1-D MultiDiscrete space, else None."""
    if isinstance(space, spaces.Discrete) and space.start == 0:
        return 1, int(space.n)
    if (
        isinstance(space, spaces.MultiDiscrete)
        and space.nvec.ndim == 1
        and np.all(space.nvec == space.nvec[0])
        and not np.any(space.start)
    ):
        return len(space.nvec), int(space.nvec[0])
    return None


def stream_layout(observation_space: spaces.Space, action_space: spaces.Space) -> Layout | None:
    """Reads the streams' layout from the spaces; None when they are not a prediction game."""
    obs_symbols, act_symbols = _symbols(observation_space), _symbols(action_space)
    obs_box = isinstance(observation_space, spaces.Box) and len(observation_space.shape) == 1
    act_box = isinstance(action_space, spaces.Box) and len(action_space.shape) == 1
    if obs_symbols is None and not obs_box:
        return None
    if act_symbols is not None:
        streams, n = act_symbols
        out, out_dim = "class", n
    elif act_box:
        size = action_space.shape[0]
        if obs_symbols is not None:
            streams = obs_symbols[0]
            if size % streams:
                return None
            out, out_dim = "scores", size // streams
        else:
            streams, out, out_dim = size, "value", 1
    else:
        return None
    if obs_symbols is not None:
        if obs_symbols[0] != streams:
            return None
        return Layout(streams, obs_symbols[1], 1, out, out_dim)
    width = observation_space.shape[0]
    if width % streams:
        return None
    return Layout(streams, None, width // streams, out, out_dim)


class SequenceAgent(Agent):
    """What the sequence agents share: predict each step, learn from ``info["truth"]``.

    The core's loop steps the env; :meth:`act` predicts and :meth:`observe` learns. The model
    behind it lives in :mod:`.networks`; ``reset()`` clears its memory of the episode.
    """

    uses_torch = True
    kind: ClassVar[str] = ""

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        if stream_layout(observation_space, action_space) is None:
            needs = (
                "a next-step prediction game (symbol ids or a 1-D Box of B streams, predicting "
                "a symbol, a value or per-symbol scores per stream)"
            )
            raise cls.incompatible(needs, observation_space)

    @classmethod
    def memory_needed(
        cls,
        config: RecurrentConfig | TransformerConfig,
        observation_space: spaces.Space,
        action_space: spaces.Space,
    ) -> dict[str, int]:
        """The network with Adam's copies, and what a learning window keeps for backprop."""
        found = stream_layout(observation_space, action_space)
        assert found is not None  # check_spaces has passed
        if cls.kind == "transformer":
            return _transformer_bytes(config, found)
        gates = {"rnn": 1, "gru": 3, "lstm": 4}[cls.kind]
        h = config.hidden_size
        width = config.embedding_dim if found.vocab is not None else found.in_dim
        embed = found.vocab * config.embedding_dim if found.vocab is not None else 0
        first, later = (gates * h * (inputs + h) + 2 * gates * h for inputs in (width, h))
        layers = first + (config.num_layers - 1) * later  # later layers read the one below
        params = embed + layers + dense_parameters([h, found.out_dim])
        # Per step of the window, per stream and layer: the gates, the cell and the state.
        window = config.window * found.streams * config.num_layers * (gates + 2) * h
        what = f"network (hidden_size={h}, num_layers={config.num_layers}, window={config.window})"
        return {what: adam_bytes(params) + window * FLOAT32}

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space, **kw) -> None:
        super().__init__(observation_space, action_space, **kw)
        from agents.sequence.networks import SequenceModel

        self.layout = stream_layout(observation_space, action_space)
        init_seed = int(self.np_random.integers(2**31 - 1))
        self.model = SequenceModel(self.kind, self.layout, self.config, self.device, init_seed)
        # How many steps of the open training episode the model's memory holds (None: it is
        # not that episode's memory); and, while learning, the env's episode_observations.
        self._remembered: int | None = None
        self._episode_observations: Callable[[], np.ndarray] | None = None

    def reset(self) -> None:
        """Clears the memory of the episode: the hidden state, or the Transformer's context."""
        self.model.reset()
        self._remembered = None

    def observe_reset(self, observation: Any, info: dict[str, Any]) -> None:
        """A training episode starts; on an env that has ``episode_observations()``, the model
        computes each window's predictions in one pass."""
        source = self._episode_observations
        self.model.begin_episode(None if source is None else source())
        self._remembered = 0

    def act(self, observation: Any, explore: bool = False) -> Any:
        """Predicts the next element of every stream, advancing the model's memory by one step.

        The prediction is the same either way; in a training episode of the core loop,
        ``explore`` also keeps what learning from it needs, until :meth:`observe` has the truth.
        """
        model = self.model
        if not explore or self._remembered is None:
            output_BO = model.step(observation)
            model.stale = self._remembered is not None  # the training memory is run again
            return self._action(output_BO)
        if model.mode == "inputs known" and model.x_L is None:  # the first step after a load
            model.x_L = model.episode_inputs(self._episode_observations())
        return self._action(model.train_step(observation, self._remembered))

    def observe(self, transition: Transition) -> None:
        """Takes the truth of the last prediction; learns when a window is full or at the end.

        Raises:
            IncompatibleEnvError: The env does not reveal ``info["truth"]`` and
                ``info["scored"]``.
        """
        info = transition.info
        if "truth" not in info or "scored" not in info:
            raise IncompatibleEnvError(
                self.name,
                "an env that reveals info['truth'] and info['scored'] after each step",
                f"info keys {sorted(info)}",
                self.env_id,
            )
        done = transition.terminated or transition.truncated
        self.record_loss(self.model.observe(info["truth"], info["scored"], done))
        self._remembered += 1

    def _action(self, output_BO: np.ndarray) -> Any:
        """Turns the network's ``(B, out_dim)`` outputs into an action."""
        layout = self.layout
        if layout.out == "class":
            symbol_B = output_BO.argmax(axis=1)
            return int(symbol_B[0]) if isinstance(self.action_space, spaces.Discrete) else symbol_B
        if layout.out == "value":
            return np.clip(output_BO[:, 0], -1.0, 1.0).astype(np.float32)
        scores_BV = (output_BO - output_BO.max(axis=1, keepdims=True)) / SCORE_SCALE
        return np.clip(scores_BV, -1.0, 1.0).astype(np.float32).reshape(-1)

    def _learn(self, env: gym.Env, steps: int, callback: Callback) -> None:
        """The core's loop (:mod:`arena.rollout`); on an env that has ``episode_observations()``
        the model computes each window's predictions in one pass (the same game: it is causal).

        The memory and the window not learned from yet carry over from one ``learn`` call to
        the next and into the checkpoint. An evaluation clears the memory: an episode left open
        before it starts afresh, and ``learn_info["resume"]`` says so.
        """
        self._episode_observations = getattr(env.unwrapped, "episode_observations", None)
        episode = self.open_episode
        lost = episode is not None and episode.in_episode and self._remembered != episode.length
        if not lost and self.model.mode == "inputs known":
            lost = self._episode_observations is None
        if episode is not None and lost:
            self.open_episode = None
            self.reset()
            self.learn_info["resume"] = (
                "started a new episode instead of continuing the one in progress (the model's "
                "memory of it was cleared, or the env lost episode_observations), so this run "
                "differs from one that was not interrupted"
            )
        try:
            super()._learn(env, steps, callback)
        finally:
            self._episode_observations = None

    def state(self) -> dict[str, Any]:
        return self.model.state()

    def state_allowance(self) -> int:
        """The optimizer's moments, which appear at its first step, and a window in progress:
        the memory at its start, its truths and inputs."""
        from arena.torch_utils import optimizer_state_bytes

        return optimizer_state_bytes(self.model.optimizer) + self.model.window_bytes()

    def extra_state(self) -> dict[str, Any]:
        return {**self.model.extra_state(), "remembered": self._remembered}

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        self.model.load_state(arrays, extra)
        remembered = extra.get("remembered")
        if remembered is not None and not (
            isinstance(remembered, int) and not isinstance(remembered, bool) and remembered >= 0
        ):
            raise ValueError("its 'remembered' must be null or a whole number")
        self._remembered = remembered if self.model.mode is not None else None


class RNN(SequenceAgent):
    """An Elman RNN (tanh) predicting the next element; truncated BPTT, Adam, gradient clipping.

    The hidden state carries across the steps of an episode and is cleared at its start. Its
    gradients vanish over long lags, which the LSTM and GRU were made to fix.
    """

    Config = RecurrentConfig
    kind = "rnn"
    presets = "sequence_rnn.toml"


class LSTM(SequenceAgent):
    """An LSTM predicting the next element; truncated BPTT, Adam, gradient clipping.

    The hidden and cell states carry across the steps of an episode and are cleared at its start.
    """

    Config = RecurrentConfig
    kind = "lstm"
    presets = "sequence_lstm.toml"


class GRU(SequenceAgent):
    """A GRU predicting the next element; truncated BPTT, Adam, gradient clipping.

    The hidden state carries across the steps of an episode and is cleared at its start.
    """

    Config = RecurrentConfig
    kind = "gru"
    presets = "sequence_gru.toml"


class Transformer(SequenceAgent):
    """A small causal Transformer over a rolling context of the last K elements.

    Each attention layer sees the last K positions, with ALiBi distance biases instead of
    position embeddings; the keys and values of the last K - 1 steps are its memory, kept
    across the steps of an episode and cleared at its start. It learns every ``window`` steps
    from those steps' truths, attending back into the cached context. Adam, gradient clipping.
    """

    Config = TransformerConfig
    kind = "transformer"
    presets = "sequence_transformer.toml"


def _transformer_bytes(config: TransformerConfig, found: Layout) -> dict[str, int]:
    """:meth:`SequenceAgent.memory_needed` of the Transformer: weights with Adam's copies; per
    layer, the cache of ``context`` keys and values per stream, and a window's activations and
    attention scores."""
    d = config.d_model
    embed = found.vocab * d if found.vocab is not None else dense_parameters([found.in_dim, d])
    block = dense_parameters([d, 3 * d]) + dense_parameters([d, d]) + 4 * d
    block += dense_parameters([d, 4 * d, d])
    params = embed + config.num_layers * block + 2 * d + dense_parameters([d, found.out_dim])
    scores = config.num_heads * config.window * (config.window + config.context)
    per_layer = found.streams * (2 * config.context * d + config.window * 12 * d + scores)
    what = (
        f"network (d_model={d}, num_layers={config.num_layers}, context={config.context}, "
        f"window={config.window})"
    )
    return {what: adam_bytes(params) + config.num_layers * per_layer * FLOAT32}
