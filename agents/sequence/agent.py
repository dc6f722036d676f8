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

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from agents.sequence.config import Layout, RecurrentConfig, TransformerConfig
from arena.agent import Agent
from arena.callbacks import Callback, EpisodeTracker
from arena.errors import IncompatibleEnvError
from arena.sizes import FLOAT32, adam_bytes, dense_parameters

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
    """The shared loop of the sequence agents: predict each step, learn from ``info["truth"]``.

    The model behind it lives in :mod:`.networks`; ``reset()`` clears its memory of
    the episode.
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
        layers = sum(
            gates * h * (inputs + h) + 2 * gates * h
            for inputs in [width] + [h] * (config.num_layers - 1)
        )
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
        self._learning = False

    def reset(self) -> None:
        """Clears the memory of the episode: the hidden state, or the Transformer's context."""
        self.model.reset()

    def act(self, observation: Any, explore: bool = False) -> Any:
        """Predicts the next element of every stream, advancing the model's memory by one step.

        ``explore`` changes nothing: the predictions do not change what the agent sees.
        """
        return self._action(self.model.step(observation, keep=self._learning))

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
        tracker = EpisodeTracker(callback)
        end = self.num_timesteps + steps
        observation, _ = env.reset(seed=self.env_seed())
        self._learning = True
        try:
            while self.num_timesteps < end:
                self.reset()
                if not self._play(env, observation, end, tracker):
                    break
                observation, _ = env.reset()
                if not callback.on_step(self.num_timesteps):
                    return
            callback.on_step(self.num_timesteps)
        finally:
            self._learning = False
            self.reset()

    def _play(self, env: gym.Env, observation: Any, end: int, tracker: EpisodeTracker) -> bool:
        """Plays and learns from one episode, or until step ``end``; True if the episode ended.

        An env with ``episode_observations()`` takes the fast path: the agent, being causal,
        computes a window's predictions in one pass, plays them, then learns from the truths.
        """
        fast = getattr(env.unwrapped, "episode_observations", None)
        if fast is not None:
            return self._play_fast(env, fast(), end, tracker)
        while self.num_timesteps < end:
            observation, reward, terminated, truncated, info = env.step(self.act(observation))
            if "truth" not in info or "scored" not in info:
                raise IncompatibleEnvError(
                    self.name,
                    "an env that reveals info['truth'] and info['scored'] after each step",
                    f"info keys {sorted(info)}",
                    env.spec.id if env.spec is not None else None,
                )
            self.num_timesteps += 1
            done = terminated or truncated
            self.record_loss(self.model.observe(info["truth"], info["scored"], done))
            tracker.record(self.num_timesteps, 0, reward, done, info)
            if done:
                return True
        self.record_loss(self.model.learn_pending())
        return False

    def _play_fast(
        self, env: gym.Env, observations: np.ndarray, end: int, tracker: EpisodeTracker
    ) -> bool:
        x_L = self.model.episode_inputs(observations)
        start = 0
        while self.num_timesteps < end and start < len(x_L):
            stop = min(start + self.model.window, len(x_L), start + end - self.num_timesteps)
            out_NBO = self.model.chunk_outputs(x_L, start, stop)
            outputs = out_NBO.detach().float().cpu().numpy()
            truths, scored, done = [], [], False
            for output_BO in outputs:
                _, reward, terminated, truncated, info = env.step(self._action(output_BO))
                self.num_timesteps += 1
                done = terminated or truncated
                truths.append(info["truth"])
                scored.append(info["scored"])
                tracker.record(self.num_timesteps, 0, reward, done, info)
                if done:
                    break
            self.record_loss(self.model.fit(out_NBO[: len(truths)], truths, scored))
            if done:
                return True
            start = stop
        return False

    def state(self) -> dict[str, Any]:
        return self.model.state()

    def extra_state(self) -> dict[str, Any]:
        return self.model.extra_state()

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        self.model.load_state(arrays, extra)


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
