"""``arena sweep``: a hyperparameter search with Optuna's TPE sampler through Ray Tune.

Everything a user can get wrong is checked here, in the driver, before Ray starts: the agent,
the env, the space (:mod:`arena.search_space`), the budget, and the metric, which must be one the
env reports (an untrained agent plays one episode to see which it does). Then Ray Tune runs
``trials`` trials (:mod:`arena.sweep_trial`), sampled by Optuna's TPE with a fixed seed (the
preset's own values are the first point when the space holds them), and its asynchronous
successive-halving scheduler (ASHA) stops the trials whose evaluations fall behind.

``DIR`` holds the sweep's settings (``sweep.json``), Tune's experiment (``tune/``) and each
trial's runs (``trials/trial-N``); a sweep interrupted with Ctrl-C is resumed by the same command
(Tune's experiment restore: finished trials stay, unfinished ones start over). At the end it
writes ``best.toml``, ``trials.csv`` and ``search.png`` (:mod:`arena.sweep_report`).
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from arena.errors import ArenaError
from arena.search_space import Param, check_space, load_space
from arena.sweep_trial import run_trial

SETTINGS_FILE = "sweep.json"
TUNE_DIR = "tune"
"""Tune's experiment folder inside ``DIR`` (its state, searcher and per-trial results)."""
SEAL_FILE = "tune.seal"
"""The seal (:mod:`arena.seal`) of ``DIR/tune``, written when a run of the sweep ends: Tune's
state is pickled, so a resume restores it only when this user's arena sealed it as it is."""
MAX_TRIALS = 10_000
MAX_SEEDS_PER_TRIAL = 64
REDUCTION_FACTOR = 2
"""ASHA lets the better half of the trials at a rung go on: by default rungs at a quarter and a
half of the budget, so about a quarter of the trials finish (a third at each of two rungs left 1
of 16 trials finished on FrozenLake, whose evaluations are noisy)."""


@dataclass(frozen=True)
class SweepPlan:
    """A checked sweep: what every trial trains and how trials are compared.

    Attributes:
        agent: The agent's name.
        env: The env's id.
        params: The searched fields.
        base: The preset's config values, which each trial's sampled values override.
        env_kwargs: The preset's env arguments.
        space_source: Where the space came from, for messages.
        steps: Each trial's step budget (per seed).
        metric: What an evaluation is scored by.
        mode: ``max`` or ``min``.
        trials: How many trials to run.
        seeds_per_trial: Seeds each trial trains; its score is their mean.
        seed: The first seed of every trial (all trials play the same seeds).
        evaluations: Evaluations per trial, evenly spaced (and one at the end).
        eval_episodes: Greedy episodes per evaluation.
        prune: Stop the trials that fall behind at a rung (ASHA); False runs every trial
            to its budget.
        grace_steps: ASHA's first rung: no trial is stopped before this many steps; None
            takes :func:`default_grace_steps`.
    """

    agent: str
    env: str
    params: tuple[Param, ...]
    base: dict[str, Any]
    env_kwargs: dict[str, Any]
    space_source: str
    steps: int
    metric: str
    mode: str
    trials: int
    seeds_per_trial: int
    seed: int
    evaluations: int
    eval_episodes: int
    prune: bool = True
    grace_steps: int | None = None

    @property
    def eval_every(self) -> int:
        """Steps between two evaluations of a trial."""
        return max(1, math.ceil(self.steps / self.evaluations))

    def settings(self) -> dict[str, Any]:
        """The plan as JSON-ready data: ``sweep.json``, and what each trial is given."""
        data = asdict(self)
        data["params"] = [{**asdict(p), "choices": list(p.choices)} for p in self.params]
        data["eval_every"] = self.eval_every
        return json.loads(json.dumps(data))  # tuples as lists, as the file reads back


def require_tune() -> None:
    """Imports Ray Tune and Optuna, or says how to install them.

    Raises:
        ArenaError: Either is missing.
    """
    from arena.cluster import INSTALL_HINT, require_ray

    require_ray("arena sweep")
    for module in ("ray.tune", "optuna"):
        try:
            importlib.import_module(module)
        except ImportError:
            raise ArenaError(
                f"arena sweep needs {module}, which is not installed. Install the extra: "
                f"{INSTALL_HINT}"
            ) from None


def plan_sweep(
    agent: str,
    env: str,
    *,
    trials: int,
    space: str | Path | None = None,
    metric: str = "mean_return",
    mode: str = "max",
    seeds_per_trial: int = 1,
    steps: int | None = None,
    seed: int = 0,
    evaluations: int = 10,
    eval_episodes: int = 10,
    prune: bool = True,
    grace_steps: int | None = None,
) -> SweepPlan:
    """Checks everything a sweep needs, before any worker starts.

    Args:
        agent: The agent's registered name.
        env: The env's id.
        trials: How many configs to try.
        space: A TOML space file; None takes the one the agent's presets ship for ``env``.
        metric: ``mean_return``, ``mean_length`` or a metric the env reports.
        mode: ``max`` or ``min`` the metric.
        seeds_per_trial: Seeds each trial trains.
        steps: Each trial's budget; the preset's when None.
        seed: The first seed of every trial.
        evaluations: Evaluations per trial.
        eval_episodes: Episodes per evaluation.
        prune: Stop trials early on their evaluations (ASHA).
        grace_steps: Steps before a trial may be stopped; None takes
            :func:`default_grace_steps`.

    Raises:
        ArenaError: An unknown agent or env, a malformed space, no budget, a bad count, or a
            metric the env does not report.
    """
    from arena.presets import find_preset
    from arena.registry import agent_class

    _check_count("--trials", trials, MAX_TRIALS)
    _check_count("--seeds-per-trial", seeds_per_trial, MAX_SEEDS_PER_TRIAL)
    _check_count("--evaluations", evaluations, 1000)
    _check_count("--eval-episodes", eval_episodes, 10**6)
    if mode not in ("max", "min"):
        raise ArenaError(f"--mode must be max or min, got {mode!r}.")
    cls = agent_class(agent)
    preset = find_preset(cls, env)
    if space is None:
        if not preset.sweep:
            raise ArenaError(
                f"{agent} ships no search space for {env}; give one with --space FILE.toml "
                "(field = { low = ..., high = ... } or { choices = [...] } lines)."
            )
        table, source = preset.sweep, preset.sweep_source
    else:
        table, source = load_space(space), str(space)
    params = check_space(cls, table, preset.config, source)
    budget = steps if steps is not None else preset.steps
    if budget is None:
        raise ArenaError(f"{agent} ships no preset budget for {env}; pass --steps N.")
    if budget < 1:
        raise ArenaError(f"--steps must be at least 1 for a sweep, got {budget}.")
    if grace_steps is None:
        grace_steps = default_grace_steps(budget, evaluations)
    elif not 1 <= grace_steps <= budget:
        raise ArenaError(
            f"--grace-steps must be from 1 to the budget ({budget} steps), got {grace_steps}."
        )
    _check_metric(agent, env, metric, preset.env_kwargs, seed)
    return SweepPlan(
        agent=agent,
        env=env,
        params=tuple(params),
        base=dict(preset.config),
        env_kwargs=dict(preset.env_kwargs),
        space_source=source,
        steps=budget,
        metric=metric,
        mode=mode,
        trials=trials,
        seeds_per_trial=seeds_per_trial,
        seed=seed,
        evaluations=evaluations,
        eval_episodes=eval_episodes,
        prune=prune,
        grace_steps=grace_steps,
    )


def default_grace_steps(steps: int, evaluations: int) -> int:
    """ASHA's first rung by default: a quarter of the budget, and at least one evaluation in."""
    return max(math.ceil(steps / evaluations), steps // REDUCTION_FACTOR**2)


def _check_count(flag: str, value: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise ArenaError(f"{flag} must be a whole number from 1 to {high}, got {value!r}.")


def _check_metric(agent: str, env: str, metric: str, env_kwargs: dict[str, Any], seed: int) -> None:
    """Refuses a metric the env does not report, from one episode of the untrained agent."""
    if metric in ("mean_return", "mean_length"):
        return
    from arena.building import build_agent
    from arena.evaluation import evaluate

    built, made, _ = build_agent(agent, env, seed=seed, device="cpu", env_kwargs=env_kwargs)
    try:
        reported = evaluate(built, made, episodes=1, seed=seed).metrics
    finally:
        made.close()
    if metric not in reported:
        names = ", ".join(["mean_return", "mean_length", *sorted(reported)])
        raise ArenaError(f"{env} does not report the metric {metric!r}; it reports {names}.")


def prepare_folder(out: Path, plan: SweepPlan) -> bool:
    """Readies the folder ``out``, whose lock the caller holds, for a new sweep, or checks that
    it holds this very sweep to resume.

    Returns:
        True when ``out`` holds an earlier run of this sweep.

    Raises:
        ArenaError: ``out`` holds other files, or another sweep.
    """
    from arena.rundir import LOCK_FILE

    settings_file = out / SETTINGS_FILE
    if settings_file.is_file():
        try:
            earlier = json.loads(settings_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise ArenaError(f"{str(settings_file)!r} cannot be read as a sweep: {e}.") from None
        _fill_grace_steps(earlier)
        if earlier != plan.settings():
            changed = sorted(
                k for k in {*earlier, *plan.settings()} if earlier.get(k) != plan.settings().get(k)
            )
            raise ArenaError(
                f"{str(out)!r} holds another sweep (its {', '.join(changed)} differ). Run the "
                "same command to resume it, or pick another --out."
            )
        return True
    if any(p.name != LOCK_FILE for p in out.iterdir()):
        raise ArenaError(
            f"--out {str(out)!r} is a folder with other files in it and no sweep; a sweep "
            "writes into a new or empty folder, or resumes its own."
        )
    settings_file.write_text(json.dumps(plan.settings(), indent=2) + "\n", encoding="utf-8")
    return False


def run_sweep(
    plan: SweepPlan,
    out: str | Path,
    *,
    address: str | None = None,
    tensorboard: str | Path | None = None,
    on_trial: Callable[[str], None] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Runs (or resumes) the sweep into ``out`` and writes its results there.

    Args:
        plan: The checked sweep (:func:`plan_sweep`).
        out: The sweep's folder.
        address: A Ray head's ``HOST:PORT``; None starts a local instance.
        tensorboard: Each trial also writes TensorBoard events into ``tensorboard/trial-N``.
        on_trial: Called with a line about each trial that ends.

    Returns:
        The trials' rows (:func:`arena.sweep_report.trial_rows`), and whether every trial
        ended (False after Ctrl-C: the same command resumes it).

    Raises:
        ArenaError: ``out`` is a file or holds something else, another process sweeps into it,
            or Ray cannot start.
    """
    from arena.cluster import ray_session
    from arena.rundir import check_folder_target, hold
    from arena.sweep_report import trial_rows, write_results

    if not str(out).strip():
        raise ArenaError("--out is empty; name the folder to write the sweep into.")
    out = Path(out).absolute()
    check_folder_target(out)
    if tensorboard is not None:
        from arena.tensorboard import summary_writer_class

        summary_writer_class()  # a missing writer is refused here, not in every trial
    given = {
        **plan.settings(),
        "out": str(out),
        "tensorboard": str(Path(tensorboard).absolute()) if tensorboard else None,
    }
    out.mkdir(parents=True, exist_ok=True)
    with hold(out):
        resumed = prepare_folder(out, plan)
        if resumed:
            _check_seal(out)
        with ray_session("arena sweep", address), _quiet_ray():
            try:
                grid = _tuner(plan, out / TUNE_DIR, given, resumed, on_trial).fit()
            finally:
                _write_seal(out)
            rows = trial_rows(grid, plan)
            finished = grid.num_terminated + grid.num_errors >= plan.trials
            write_results(out, plan, rows)
    return rows, finished


def _write_seal(out: Path) -> None:
    """Seals ``out/tune`` as this run leaves it, so that a resume may restore it."""
    from arena.checkpoint import atomic_write
    from arena.seal import seal

    tune_dir = out / TUNE_DIR
    if tune_dir.is_dir():
        atomic_write(out / SEAL_FILE, (seal(tune_dir) + "\n").encode("ascii"))


def _check_seal(out: Path) -> None:
    """Refuses to restore ``out/tune`` unless this user's arena sealed it as it is.

    Raises:
        ArenaError: The seal is missing or does not match.
    """
    from arena.seal import is_sealed, key_file

    tune_dir = out / TUNE_DIR
    if tune_dir.exists() and not is_sealed(tune_dir, out / SEAL_FILE):
        raise ArenaError(
            f"{str(tune_dir)!r} was not written by your arena sweep, or was changed since "
            f"(its seal in {SEAL_FILE}, made with your key {str(key_file())!r}, does not "
            "match). Ray Tune's saved state is pickled, and reading it runs code, so arena "
            "resumes only sweeps it sealed itself; start the sweep again with another --out."
        )


@contextmanager
def _quiet_ray() -> Iterator[None]:
    """Keeps Tune's tables and Ray's and Optuna's logs of a trial's failure off the terminal
    while the sweep runs, and restores them after: the progress lines say what happened to each
    trial, and trials.csv keeps each error."""
    loggers = [logging.getLogger(name) for name in ("ray", "ray.tune")]
    levels = [logger.level for logger in loggers]
    output = os.environ.get(_TUNE_OUTPUT)
    os.environ[_TUNE_OUTPUT] = "0"
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="optuna")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        if output is None:
            os.environ.pop(_TUNE_OUTPUT, None)
        else:
            os.environ[_TUNE_OUTPUT] = output


_TUNE_OUTPUT = "RAY_AIR_NEW_OUTPUT"
"""Tune prints its configuration table and summaries unless this is "0"."""


def _fill_grace_steps(earlier: Any) -> None:
    """Gives a ``sweep.json`` written before ``grace_steps`` was recorded the default it ran
    with, so that the same command still resumes it."""
    if isinstance(earlier, dict) and "grace_steps" not in earlier:
        steps, evaluations = earlier.get("steps"), earlier.get("evaluations")
        if isinstance(steps, int) and isinstance(evaluations, int) and evaluations > 0:
            earlier["grace_steps"] = default_grace_steps(steps, evaluations)


def _tuner(
    plan: SweepPlan,
    path: Path,
    given: dict[str, Any],
    resumed: bool,
    on_trial: Callable[[str], None] | None,
) -> Any:
    """A new Tune experiment for the plan, or the one at ``path`` restored."""
    import optuna
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    from arena.search_space import tune_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trainable = tune.with_parameters(run_trial, plan=given)
    if resumed and tune.Tuner.can_restore(path):
        return tune.Tuner.restore(str(path), trainable, resume_errored=True)
    sign = "max" if plan.mode == "max" else "min"
    searcher = OptunaSearch(
        metric="objective",
        mode=sign,
        sampler=optuna.samplers.TPESampler(seed=plan.seed),
        points_to_evaluate=_preset_point(plan),
    )
    scheduler = ASHAScheduler(
        time_attr="step",
        max_t=plan.steps,
        grace_period=plan.grace_steps or default_grace_steps(plan.steps, plan.evaluations),
        reduction_factor=REDUCTION_FACTOR,
    )
    return tune.Tuner(
        trainable,
        param_space=tune_space(list(plan.params)),
        tune_config=tune.TuneConfig(
            metric="objective",
            mode=sign,
            search_alg=searcher,
            scheduler=scheduler if plan.prune else None,
            num_samples=plan.trials,
            trial_name_creator=_trial_name,
            trial_dirname_creator=_trial_name,
        ),
        run_config=tune.RunConfig(
            name=path.name,
            storage_path=str(path.parent),
            verbose=0,
            failure_config=tune.FailureConfig(max_failures=2),
            callbacks=[_progress_callback(on_trial)] if on_trial else None,
        ),
    )


def _trial_name(trial: Any) -> str:
    """``trial-N``, N the trial's number in the order Tune made them."""
    number = str(trial.experiment_tag).split("_", 1)[0]
    return f"trial-{int(number):04d}" if number.isdigit() else f"trial-{trial.trial_id}"


def _preset_point(plan: SweepPlan) -> list[dict[str, Any]] | None:
    """The preset's own values as the first point to try, when the space holds them all."""
    from arena.config import build_config, config_to_dict
    from arena.registry import agent_class

    preset = config_to_dict(build_config(agent_class(plan.agent).Config, plan.base))
    point = {}
    for p in plan.params:
        value = preset[p.name]
        if p.choices:
            shown = [json.dumps(c) for c in json.loads(json.dumps(list(p.choices)))]
            if json.dumps(value) not in shown:
                return None
            point[p.name] = shown.index(json.dumps(value))
        elif value is None or not p.low <= value <= p.high:
            return None
        else:
            point[p.name] = value
    return [point]


def _progress_callback(on_trial: Callable[[str], None]) -> Any:
    """A Tune callback that tells ``on_trial`` about each trial that ends."""
    from ray import tune

    class Progress(tune.Callback):
        def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            last = trial.last_result or {}
            score = last.get("objective")
            shown = "-" if score is None else f"{score:.4g}"
            on_trial(f"{trial}: objective {shown} at step {last.get('step', 0)}")

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            on_trial(f"{trial}: failed (its error is in trials.csv)")

        def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            on_trial(f"{trial}: its worker failed; the trial starts again")

    return Progress()
