"""``arena train``: resolve, build or resume, learn with progress.csv and checkpoints, save.

The agent's ``learn()`` owns the loop; this module only wires the pieces around it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arena.building import build_agent, construct, make_envs
from arena.callbacks import Callback, CallbackList, Episode
from arena.checkpoint import load_checkpoint, read_manifest, save_checkpoint
from arena.cli_common import MAX_STEPS
from arena.errors import ArenaError, ConfigError
from arena.guard import NonFiniteGuard
from arena.periodic_eval import PeriodicEval
from arena.presets import find_preset
from arena.registry import evaluation_kwargs, make_env
from arena.rundir import PROGRESS_FILE, check_folder_target, check_seeds_folder, open_run
from arena.runlogs import RECENT_EPISODES, ProgressCSV
from arena.runtime import DEFAULT_THREADS

if TYPE_CHECKING:
    from arena.agent import Agent
    from arena.tensorboard import TensorBoardLog

EvaluationHook = Callable[["Agent", int, dict[str, Any]], None]
"""Called after each evaluation during training with the agent, the step and the report's numbers
(:class:`arena.periodic_eval.PeriodicEval`'s ``report``)."""

MAX_DEFAULT_SAVE_EVERY = 1_000_000
"""The default checkpoint interval is a tenth of the budget, but never more than this many steps."""
EVAL_SEED = 1_000_000
"""Evaluations during training reset their env with this seed plus the agent's seed."""


class PeriodicCheckpoint(Callback):
    """Saves the agent to ``path`` every ``every`` steps, atomically, after ``progress``
    has written the episodes so far."""

    def __init__(self, path: Path, every: int, progress: ProgressCSV) -> None:
        self.path = path
        self.every = every
        self.progress = progress
        self.agent: Agent | None = None
        self.last_saved = 0

    def on_learn_start(self, agent: Agent, steps: int) -> None:
        self.agent = agent
        self.last_saved = agent.num_timesteps

    def on_step(self, step: int) -> bool:
        if self.agent is not None and step - self.last_saved >= self.every:
            self.progress.flush()
            save_checkpoint(self.agent, self.path)
            self.last_saved = step
        return True


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced."""

    agent: Agent
    out: Path
    steps: int
    episodes: int
    recent_return: float | None
    seconds: float
    best_eval: dict[str, float] | None = None
    """The best evaluation during training (``step``, ``mean_return``...), whose agent is in
    ``out/best``; None without ``eval_every``."""
    events: Path | None = None
    """The folder of the run's TensorBoard events; None without ``tensorboard``."""


class _Counter(Callback):
    def __init__(self) -> None:
        self.returns: list[float] = []

    def on_episode(self, episode: Episode) -> None:
        self.returns.append(episode.ret)


def train(
    name: str | None,
    env_id: str | None,
    *,
    out: str | Path | None = None,
    steps: int | None = None,
    seed: int = 0,
    device: str = "auto",
    threads: int | None = DEFAULT_THREADS,
    save_replay: bool = True,
    overrides: Mapping[str, Any] | None = None,
    config_file: str | Path | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    num_envs: int = 1,
    save_every: int | None = None,
    eval_every: int | None = None,
    eval_episodes: int = 10,
    log_every_episode: bool = False,
    resume: str | Path | None = None,
    allow_other_distribution: bool = False,
    progress: bool | None = None,
    overwrite: bool = False,
    tensorboard: str | Path | None = None,
    on_evaluation: EvaluationHook | None = None,
) -> TrainResult:
    """Trains an agent, or resumes a checkpoint, writing checkpoints and progress.csv to ``out``.

    The run holds ``out``'s lock (:func:`arena.rundir.open_run`) from its checks to its last
    save, so a second writer is refused.

    Args:
        name: The agent's registered name (with ``resume``, it must match the checkpoint's).
        env_id: The env to train on (with ``resume``, defaults to the checkpoint's).
        out: The run directory: checkpoint, ``progress.csv``. A new or empty folder, or an
            existing checkpoint with ``overwrite``; with ``resume``, ``resume`` itself by default,
            where the run continues in place.
        steps: The step budget; the preset's when omitted. With ``resume``, the steps to add.
        seed: Seeds the agent and, through it, the env.
        device: Where torch agents run.
        threads: Torch's CPU threads while learning and evaluating (:mod:`arena.runtime`); 0
            or None leaves torch's own setting.
        save_replay: Keep an agent's replay buffer in its checkpoints (``Agent.save_replay``),
            so that a resumed run continues exactly.
        overrides: ``--set`` values.
        config_file: A TOML file of config values (top level, or a ``[config]`` table).
        env_kwargs: Arguments to ``gym.make``.
        num_envs: Collect with this many envs side by side (agents that support vector envs).
        save_every: Save a checkpoint every this many steps; by default a tenth of the budget,
            at most :data:`MAX_DEFAULT_SAVE_EVERY` (a million).
        eval_every: Play ``eval_episodes`` greedy episodes every this many steps (and at the
            end) and keep the best agent in ``out/best`` (see :mod:`arena.periodic_eval`);
            None does not evaluate.
        eval_episodes: Episodes per evaluation.
        log_every_episode: Write one ``progress.csv`` row per episode; by default a long run
            groups episodes into a few thousand rows (:class:`arena.runlogs.ProgressCSV`).
        resume: A checkpoint to continue; its step count and schedules carry on. Resumed in
            place, its ``progress.csv`` and ``evaluations.csv`` are cut back to its step.
        allow_other_distribution: Resume a checkpoint whose agent name is now provided by
            another distribution than the one that saved it.
        progress: Show a progress bar; None shows it on a terminal.
        overwrite: Replace the checkpoint at ``out`` (another than ``resume``), with its logs
            and ``best/``; nothing else in the folder.
        tensorboard: Also write TensorBoard event files into a new folder inside this one
            (:mod:`arena.tensorboard`).
        on_evaluation: Called after each evaluation during training (with ``eval_every``).

    Raises:
        ArenaError: Any user mistake, before training starts.
    """
    events = _tensorboard_log(tensorboard)
    if out is None:
        if resume is None:
            raise ArenaError("train needs --out DIR, the folder to write the run into.")
        out = resume
    if resume is not None:
        if overrides or config_file:
            raise ConfigError(
                "--resume continues a run with the checkpoint's own config; drop --set/--config, "
                "or start a new run."
            )
        manifest = read_manifest(resume)
    continues = resume is not None and _same_folder(resume, out)
    with open_run(out, overwrite=overwrite, continues=continues) as run:
        if resume is not None:
            if name is not None and name != manifest["agent"]:
                raise ArenaError(
                    f"--resume {resume} holds a {manifest['agent']} agent, not {name}."
                )
            agent = load_checkpoint(
                resume,
                device=device,
                env_id=env_id,
                allow_other_distribution=allow_other_distribution,
            )
            env_id = env_id or agent.env_id
            if env_id is None:
                raise ArenaError(f"The checkpoint at {resume} does not record its env; name one.")
            env = make_envs(env_id, num_envs, {**agent.env_kwargs, **(env_kwargs or {})})
            agent.remember_env(env)
            preset_steps = find_preset(type(agent), env_id).steps
        else:
            if name is None or env_id is None:
                raise ArenaError("train needs an AGENT and an ENV (or --resume DIR).")
            agent, env, preset_steps = build_agent(
                name,
                env_id,
                seed=seed,
                device=device,
                overrides=overrides,
                config_file=config_file,
                env_kwargs=env_kwargs,
                num_envs=num_envs,
            )
        try:
            budget = step_budget(agent, env_id, steps, preset_steps, save_every)
            evaluation = _evaluation(
                agent, env_id, run.path, eval_every, eval_episodes, _hooks(on_evaluation, events)
            )
            callbacks, counter = _run_callbacks(
                run.path, budget, save_every, evaluation, log_every_episode, events
            )
            agent.threads = threads
            agent.save_replay = save_replay
            run.begin(agent.num_timesteps)
            started = time.perf_counter()
            agent.learn(env, budget, callback=callbacks, progress=progress)
            if evaluation is not None:
                evaluation.finish(agent)
        finally:
            env.close()
            if events is not None:
                events.close()
        save_checkpoint(agent, run.path)
    result = _result(agent, run.path, counter, time.perf_counter() - started, evaluation)
    return replace(result, events=events.folder if events is not None else None)


def train_seeds(
    name: str,
    env_id: str,
    *,
    out: str | Path,
    seeds: int,
    steps: int | None = None,
    seed: int = 0,
    device: str = "auto",
    threads: int | None = DEFAULT_THREADS,
    save_replay: bool = True,
    overrides: Mapping[str, Any] | None = None,
    config_file: str | Path | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    num_envs: int = 1,
    save_every: int | None = None,
    eval_every: int | None = None,
    eval_episodes: int = 10,
    log_every_episode: bool = False,
    overwrite: bool = False,
    tensorboard: str | Path | None = None,
    on_evaluation: EvaluationHook | None = None,
) -> list[TrainResult]:
    """Trains ``seeds`` independent agents with seeds ``seed, seed + 1, ...`` on one env.

    Each run goes to ``out/seed-K`` (checkpoint and ``progress.csv``), and holds that folder's
    lock as :func:`train` does: each ``seed-K`` is a run directory of its own, which
    ``train --resume out/seed-K`` continues alone. The agent class's
    :meth:`~arena.agent.Agent.learn_seeds` trains them, side by side where the family can.
    The other arguments are those of :func:`train`.

    Raises:
        ArenaError: Any user mistake, before training starts.
    """
    if seeds < 1:
        raise ArenaError(f"--seeds must be at least 1, got {seeds}.")
    events = [_tensorboard_log(tensorboard) for _ in range(seeds)]
    if not str(out).strip():
        raise ArenaError("--out is empty; name the folder to write the runs into.")
    out = Path(out)
    check_folder_target(out)
    check_seeds_folder(out)
    with ExitStack() as stack:
        runs = [
            stack.enter_context(open_run(out / f"seed-{seed + i}", overwrite=overwrite))
            for i in range(seeds)
        ]
        first, env, preset_steps = build_agent(
            name,
            env_id,
            seed=seed,
            device=device,
            overrides=overrides,
            config_file=config_file,
            env_kwargs=env_kwargs,
            num_envs=num_envs,
        )
        try:
            cls = type(first)
            agents = [first]
            for i in range(1, seeds):
                agents.append(construct(cls, first.config, env, seed=seed + i, device=device))
            budget = step_budget(first, env_id, steps, preset_steps, save_every)
            evaluations = [
                _evaluation(
                    agent, env_id, run.path, eval_every, eval_episodes, _hooks(on_evaluation, log)
                )
                for agent, run, log in zip(agents, runs, events, strict=True)
            ]
            callbacks = [
                _run_callbacks(run.path, budget, save_every, evaluation, log_every_episode, log)
                for run, evaluation, log in zip(runs, evaluations, events, strict=True)
            ]
            for agent in agents:
                agent.threads = threads
                agent.save_replay = save_replay
            for run in runs:
                run.begin(0)
            started = time.perf_counter()
            cls.learn_seeds(agents, env, budget, [c for c, _ in callbacks])
            for agent, evaluation in zip(agents, evaluations, strict=True):
                if evaluation is not None:
                    evaluation.finish(agent)
        finally:
            env.close()
            for log in events:
                if log is not None:
                    log.close()
        seconds = time.perf_counter() - started
        for agent, run in zip(agents, runs, strict=True):
            save_checkpoint(agent, run.path)
    return [
        replace(
            _result(agent, run.path, counter, seconds, evaluation),
            events=log.folder if log is not None else None,
        )
        for agent, run, (_, counter), evaluation, log in zip(
            agents, runs, callbacks, evaluations, events, strict=True
        )
    ]


def _same_folder(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one existing folder (through links and relative paths)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def step_budget(
    agent: Agent,
    env_id: str,
    steps: int | None,
    preset_steps: int | None,
    save_every: int | None,
) -> int:
    """The run's step budget: ``steps``, or the preset's; checked with ``save_every``.

    Raises:
        ArenaError: No budget, or a budget or interval that is not a whole number in range
            (``--steps`` 0 to :data:`~arena.cli_common.MAX_STEPS`, ``--save-every`` from 1).
    """
    budget = steps if steps is not None else preset_steps
    if budget is None:
        raise ArenaError(f"{agent.name} ships no preset budget for {env_id}; pass --steps N.")
    for flag, value, low in (("--steps", budget, 0), ("--save-every", save_every, 1)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_STEPS:
            raise ArenaError(
                f"{flag} must be a whole number from {low} to {MAX_STEPS}, got {value!r}."
            )
    return budget


def default_save_every(budget: int) -> int:
    """Steps between checkpoints without ``--save-every``: a tenth of the budget, at least 1 and
    at most :data:`MAX_DEFAULT_SAVE_EVERY`, so a long run never goes long without one."""
    return min(max(budget // 10, 1), MAX_DEFAULT_SAVE_EVERY)


def _tensorboard_log(folder: str | Path | None) -> TensorBoardLog | None:
    """The run's TensorBoard events in ``folder``, or None without one.

    Raises:
        ArenaError: An empty folder name, or no TensorBoard writer installed.
    """
    if folder is None:
        return None
    if not str(folder).strip():
        raise ArenaError("--tensorboard is empty; name the folder to write event files into.")
    from arena.tensorboard import TensorBoardLog

    return TensorBoardLog(Path(folder))


def _hooks(hook: EvaluationHook | None, events: TensorBoardLog | None) -> EvaluationHook | None:
    """One evaluation hook that calls ``hook`` and writes the evaluation to ``events``."""
    if events is None:
        return hook

    def both(agent: Agent, step: int, numbers: dict[str, Any]) -> None:
        events.evaluation(step, numbers)
        if hook is not None:
            hook(agent, step, numbers)

    return both


def _evaluation(
    agent: Agent,
    env_id: str,
    out: Path,
    every: int | None,
    episodes: int,
    report: EvaluationHook | None = None,
) -> PeriodicEval | None:
    """The run's evaluation during training, or None without ``every``.

    Its env is the one ``arena evaluate`` plays: the training env's id and kwargs, with the
    env's evaluation kwargs on top (a dataset env's held-out split); its seed is derived from
    the agent's, apart from the seeds training draws.
    """
    if every is None:
        return None
    if every < 1:
        raise ArenaError(f"--eval-every must be at least 1, got {every}.")
    if episodes < 1:
        raise ArenaError(f"--eval-episodes must be at least 1, got {episodes}.")
    kwargs = {**agent.env_kwargs, **evaluation_kwargs(env_id)}
    return PeriodicEval(
        lambda: make_env(env_id, **kwargs),
        out,
        every,
        episodes,
        seed=EVAL_SEED + (agent.seed or 0),
        report=report,
    )


def _run_callbacks(
    out: Path,
    budget: int,
    save_every: int | None,
    evaluation: PeriodicEval | None = None,
    log_every_episode: bool = False,
    events: TensorBoardLog | None = None,
) -> tuple[CallbackList, _Counter]:
    """The run's callbacks: progress.csv, periodic checkpoints, evaluation, episode returns,
    TensorBoard events."""
    counter = _Counter()
    progress = ProgressCSV(out / PROGRESS_FILE, every_episode=log_every_episode)
    callbacks = [
        progress,
        NonFiniteGuard(save_every or default_save_every(budget)),
        PeriodicCheckpoint(out, save_every or default_save_every(budget), progress),
        evaluation,
        counter,
        events,
    ]
    return CallbackList(callbacks), counter


def _result(
    agent: Agent,
    out: Path,
    counter: _Counter,
    seconds: float,
    evaluation: PeriodicEval | None = None,
) -> TrainResult:
    recent = counter.returns[-RECENT_EPISODES:]
    history = evaluation.history() if evaluation is not None else []
    best = max(history, key=lambda row: row["mean_return"], default=None)
    return TrainResult(
        agent=agent,
        out=out,
        steps=agent.num_timesteps,
        episodes=len(counter.returns),
        recent_return=sum(recent) / len(recent) if recent else None,
        seconds=seconds,
        best_eval=best,
    )
