"""The uniform Agent API that every model in gym-arena implements."""

from __future__ import annotations

import dataclasses
import sys
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from arena.callbacks import Callback, CallbackList
from arena.config import build_config
from arena.errors import ConfigError, IncompatibleEnvError
from arena.limits import check_memory
from arena.manifest import RUN_KWARGS
from arena.rollout import OpenEpisode, Transition, rollout
from arena.runtime import DEFAULT_THREADS, torch_threads
from arena.spaces import describe_space, spaces_equal

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover
    from typing_extensions import Self

if TYPE_CHECKING:
    from gymnasium.vector import VectorEnv


@dataclasses.dataclass(frozen=True)
class NoConfig:
    """An agent without hyperparameters."""


class Agent(ABC):
    """A model that plays Gymnasium envs: it acts, learns from what it sees, and saves itself.

    Subclasses set ``Config`` to a frozen dataclass of hyperparameters, override
    :meth:`check_spaces` to refuse spaces they cannot handle, and implement :meth:`act` and
    :meth:`observe`, which learns from one transition of the core's env loop
    (:mod:`arena.rollout`). A family with a fast path of its own (a compiled loop, a vector env)
    overrides :meth:`_learn` instead. Agents with learned parameters also implement
    :meth:`state` and :meth:`load_state`, which the checkpoint stores as safetensors.

    Args:
        observation_space: The env's observation space.
        action_space: The env's action space.
        config: The hyperparameters; ``Config()``'s defaults when omitted.
        seed: Seeds the agent's own generator, ``self.np_random``; the same seed gives the
            same result.
        device: ``"auto"`` (cuda, then mps, then cpu) or a torch device string. Agents that do
            not use torch ignore it.

    Attributes:
        name: The agent's registered entry-point name.
        num_timesteps: Env steps learned so far, across ``learn`` calls and checkpoints.
        learn_info: What the last ``learn`` call wants the user to know (for example, whether
            a perceptron converged); the CLI prints it after training.
        open_episode: The training episode the core loop is in (:mod:`arena.rollout`): the
            next ``learn``, also after a save and a load, continues it; None between episodes.
        threads: Torch's CPU threads while :meth:`learn` and :func:`arena.evaluate` run (see
            :mod:`arena.runtime`); 0 or None leaves torch's own setting. A run option, like
            ``device``: it is not part of the config or the checkpoint.
        save_replay: Whether :meth:`state` includes a replay buffer, for an agent that keeps
            one (``arena train --no-save-replay`` turns it off): with it, a resumed run
            continues exactly; without it, the checkpoint is smaller and a resumed run refills
            the buffer. A run option, like ``threads``.

    Raises:
        ConfigError: ``config`` is not a ``Config``.
        IncompatibleEnvError: :meth:`check_spaces` refuses the spaces.
        ResourceLimitError: An entry of :meth:`memory_needed` is over the memory limit.
    """

    name: ClassVar[str] = "agent"
    Config: ClassVar[type] = NoConfig
    presets: ClassVar[str | None] = None
    """File name of a TOML preset table next to the agent's module, or None."""
    supports_vector_env: ClassVar[bool] = False
    """Whether ``learn`` accepts a Gymnasium vector env (``arena train --num-envs N``)."""
    splits_exactly: ClassVar[bool] = True
    """Whether ``learn(2N)`` on one seeded env gives bitwise the agent that ``learn(N)`` twice
    gives (and so ``learn(N)``, save, load, ``learn(N)``). The core loop does; a family with a
    loop of its own carries its open episode across calls, or says False and why."""
    uses_torch: ClassVar[bool] = False
    """Whether the agent computes with torch: the core then imports torch before it sets
    torch's threads around ``learn`` and ``evaluate`` (:mod:`arena.runtime`), so that a model
    built lazily runs with the same thread count in every call."""

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        *,
        config: Any = None,
        seed: int | None = None,
        device: str = "auto",
    ) -> None:
        type(self).check_spaces(observation_space, action_space)
        if config is None:
            config = build_config(self.Config, {}, source=f"{self.name} config")
        elif not isinstance(config, self.Config):
            raise ConfigError(
                f"{self.name} takes a {self.Config.__name__} config, got {type(config).__name__}."
            )
        needed = type(self).memory_needed(config, observation_space, action_space)
        for what, nbytes in needed.items():
            check_memory(f"{self.name}'s {what}", nbytes)
        if len(needed) > 1:
            total = sum(needed.values())
            check_memory(f"{self.name} with this config ({', '.join(needed)})", total)
        self.observation_space = observation_space
        self.action_space = action_space
        self.config = config
        self.seed = seed
        self.device = device
        self.np_random = np.random.default_rng(seed)
        self.num_timesteps = 0
        self.learn_info: dict[str, Any] = {}
        self.env_id: str | None = None
        self.env_kwargs: dict[str, Any] = {}
        self.threads: int | None = DEFAULT_THREADS
        self.save_replay = True
        self.open_episode: OpenEpisode | None = None
        self._loss_poison: Any = None

    @classmethod
    def memory_needed(
        cls, config: Any, observation_space: spaces.Space, action_space: spaces.Space
    ) -> dict[str, int]:
        """The bytes that this config and these spaces would make the agent allocate.

        ``Agent.__init__`` calls it before a subclass allocates anything (so a subclass calls
        ``super().__init__`` first) and passes each entry, and their sum, to
        :func:`arena.limits.check_memory`: a config read from a checkpoint or typed with
        ``--set`` that asks for more memory than the machine allows is refused with
        :class:`~arena.errors.ResourceLimitError` (``arena`` exits 2) naming the field, before
        anything is allocated.

        A plugin whose sizes come from its config or spaces overrides it with one entry per part:
        the key names the fields and values that decide the size, as the user would type them
        (``"replay buffer (buffer_size=100000000000)"``); the value is an honest estimate of
        the bytes: parameters, gradients and optimizer state, buffers, preallocated batches.
        Count what will really be allocated, without padding, so that no config that fits is
        refused. The spaces have passed :meth:`check_spaces`. The default needs nothing.

        Args:
            config: The agent's config, an instance of ``Config``.
            observation_space: The env's observation space.
            action_space: The env's action space.

        Returns:
            Bytes by part; ``{}`` when nothing big depends on the config.
        """
        return {}

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        """Raises :class:`IncompatibleEnvError` when the agent cannot play these spaces.

        The default accepts every space.
        """

    @classmethod
    def incompatible(cls, needs: str, has: spaces.Space) -> IncompatibleEnvError:
        """Builds the error for :meth:`check_spaces`: what this agent needs, what the env has."""
        return IncompatibleEnvError(cls.name, needs, describe_space(has))

    @abstractmethod
    def act(self, observation: Any, explore: bool = False) -> Any:
        """Returns an action for one observation.

        Args:
            observation: An observation from the env's observation space.
            explore: Act as during training (for example epsilon-greedy) instead of greedily.
        """

    def reset(self) -> None:
        """The episode-start hook: a recurrent agent clears its state here."""

    def observe_reset(self, observation: Any, info: dict[str, Any]) -> None:
        """Sees a training episode's first observation and the reset's ``info``.

        The core loop calls it after :meth:`reset` and ``env.reset``; the default does nothing.
        """

    def observe(self, transition: Transition) -> bool | None:
        """Learns from one env step of the core loop (:mod:`arena.rollout`).

        ``act(observation, explore=True)`` chose ``transition.action``; an agent that needs
        what it computed then (a forward pass) keeps it until here. Report each update's loss
        with :meth:`record_loss`. The default learns nothing, as the random agent does.

        Returns:
            False to stop learning after this step (early stopping); None or True goes on.
        """
        return None

    def learn(
        self,
        env: gym.Env | VectorEnv,
        steps: int,
        callback: Callback | None = None,
        progress: bool | None = None,
    ) -> Self:
        """Learns for ``steps`` env steps, in the core's loop (:mod:`arena.rollout`) or its own.

        The core's loop continues the episode the agent is in (``open_episode``), also after a
        save and a load, so learning ``2N`` steps at once or ``N`` and ``N`` gives the same agent.

        Args:
            env: The env to learn on; a vector env only where ``supports_vector_env`` is set.
            steps: How many env steps to take; learning may stop earlier when a callback says so.
            callback: Hooks that see each episode and the step count.
            progress: Show a progress bar on stderr; None shows it when stderr is a terminal.

        Returns:
            The agent itself, so that calls chain.
        """
        from arena.progress import ProgressBar

        show = sys.stderr.isatty() if progress is None else progress
        callbacks = CallbackList([callback, ProgressBar() if show else None])
        self._start_learning(env, steps, callbacks)
        try:
            with torch_threads(self.threads, import_torch=self.uses_torch):
                self._learn(env, steps, callbacks)
        finally:
            callbacks.on_learn_end(self)
        return self

    @classmethod
    def learn_seeds(
        cls,
        agents: Sequence[Agent],
        env: gym.Env | VectorEnv,
        steps: int,
        callbacks: Sequence[Callback | None],
    ) -> None:
        """Trains independent agents of this class (their own seeds) for ``steps`` steps each.

        ``arena train --seeds N`` calls it. Each agent reports to its own callback, as in
        :meth:`learn`. The default trains them one after another; a family that can train seeds
        side by side (in one parallel compiled kernel, say) overrides :meth:`_learn_seeds`.
        """
        lists = [CallbackList([c]) for c in callbacks]
        for agent, callback in zip(agents, lists, strict=True):
            agent._start_learning(env, steps, callback)
        try:
            with torch_threads(agents[0].threads if agents else None, import_torch=cls.uses_torch):
                cls._learn_seeds(agents, env, steps, lists)
        finally:
            for agent, callback in zip(agents, lists, strict=True):
                callback.on_learn_end(agent)

    @classmethod
    def _learn_seeds(
        cls,
        agents: Sequence[Agent],
        env: gym.Env | VectorEnv,
        steps: int,
        callbacks: Sequence[Callback],
    ) -> None:
        """The loop of :meth:`learn_seeds`: by default, each agent's :meth:`_learn` in turn."""
        for agent, callback in zip(agents, callbacks, strict=True):
            agent._learn(env, steps, callback)

    def _start_learning(self, env: gym.Env | VectorEnv, steps: int, callback: Callback) -> None:
        if steps < 0:
            raise ConfigError(f"steps must be >= 0, got {steps}.")
        self.check_env(env)
        self.remember_env(env)
        self.learn_info = {}
        callback.on_learn_start(self, steps)

    def _learn(self, env: gym.Env | VectorEnv, steps: int, callback: Callback) -> None:
        """The learning loop: steps ``env`` ``steps`` times, advancing ``self.num_timesteps``.

        By default the core's loop, :func:`arena.rollout.rollout`, which calls :meth:`act` and
        :meth:`observe`. A family that overrides it (a compiled or vectorised fast path) calls
        ``self.reset()`` at each episode start, ``callback.on_episode`` at each episode's end,
        and ``callback.on_step(self.num_timesteps)`` at least once per episode (or per compiled
        chunk), stopping when that returns False.
        """
        rollout(self, env, steps, callback)

    def record_loss(self, loss: Any | None) -> None:
        """Reports one update's training loss to the non-finite guard (:mod:`arena.guard`).

        Families with a loss call it after each update, with a float or a torch scalar (None,
        for no update, is ignored). A torch loss stays on its device: it is folded into one
        running tensor (``loss * 0``, which is 0 for a finite loss and NaN otherwise), so the
        guard syncs once per episode, not once per update.
        """
        if loss is None:
            return
        poison = loss.detach() * 0 if hasattr(loss, "detach") else float(loss) * 0.0
        self._loss_poison = poison if self._loss_poison is None else self._loss_poison + poison

    def losses_finite(self) -> bool:
        """Whether every loss recorded since the last call was finite; forgets them."""
        poison, self._loss_poison = self._loss_poison, None
        return poison is None or float(poison) == 0.0

    def state(self) -> dict[str, Any]:
        """The learned parameters as named numpy arrays or torch tensors, for safetensors."""
        return {}

    def state_allowance(self) -> int:
        """The bytes that :meth:`state` may hold beyond what a freshly built agent's holds.

        The checkpoint reader refuses a state file larger than a fresh agent's :meth:`state`
        plus this: an agent whose state grows as it learns (a replay buffer) returns the most it
        can grow to, computed from its config and spaces. The default is 0.
        """
        return 0

    def extra_state(self) -> dict[str, Any]:
        """Small JSON-ready state that is not an array (schedules, counters)."""
        return {}

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        """Restores what :meth:`state` and :meth:`extra_state` returned."""

    def save(self, path: str | Path) -> Path:
        """Writes a checkpoint directory atomically; load it with :func:`arena.load`."""
        from arena.checkpoint import save_checkpoint

        return save_checkpoint(self, path)

    def check_env(self, env: gym.Env | VectorEnv) -> None:
        """Raises :class:`IncompatibleEnvError` unless ``env`` has this agent's spaces."""
        is_vector = isinstance(env, gym.vector.VectorEnv)
        if is_vector and not self.supports_vector_env:
            raise IncompatibleEnvError(self.name, "a single env", "a vector env", _env_id(env))
        obs_space = env.single_observation_space if is_vector else env.observation_space
        act_space = env.single_action_space if is_vector else env.action_space
        for what, mine, theirs in (
            ("observation", self.observation_space, obs_space),
            ("action", self.action_space, act_space),
        ):
            if not spaces_equal(mine, theirs):
                raise IncompatibleEnvError(
                    self.name,
                    f"the {what} space {describe_space(mine)} it was built for",
                    describe_space(theirs),
                    _env_id(env),
                )

    def remember_env(self, env: gym.Env | VectorEnv) -> None:
        """Records the env's id and non-default arguments, for the checkpoint's manifest.

        This is the one place an agent learns its env's arguments; ``max_episode_steps`` is
        among them when it is not the registered time limit.
        """
        spec = env.spec
        if spec is None:
            return
        self.env_id = spec.id
        try:
            registered = gym.spec(spec.id)
        except gym.error.Error:
            registered = None
        made = {**spec.kwargs}
        defaults = {**registered.kwargs} if registered is not None else {}
        if registered is not None and spec.max_episode_steps != registered.max_episode_steps:
            made.setdefault("max_episode_steps", spec.max_episode_steps)
        self.env_kwargs = {
            k: v
            for k, v in made.items()
            if defaults.get(k, _MISSING) != v and _is_json(v) and k not in RUN_KWARGS
        }

    def env_seed(self) -> int:
        """Draws a seed for an env reset from the agent's own generator."""
        return int(self.np_random.integers(2**31 - 1))


_MISSING = object()


def _env_id(env: gym.Env | VectorEnv) -> str | None:
    return env.spec.id if env.spec is not None else None


def _is_json(value: Any) -> bool:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False
