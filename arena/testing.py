"""Checks for plugin authors: :func:`check_agent` is to an agent what Gymnasium's ``check_env``
is to an env.

    from arena.testing import check_agent

    def test_my_agent():
        check_agent(MyAgent, "CartPole-v1", steps=200)

It raises :class:`AgentCheckError` (an ``AssertionError``, so pytest shows it as a failed
assertion) whose message names the property the agent broke. gym-arena's own tests run it over
every registered agent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from arena.errors import IncompatibleEnvError

if TYPE_CHECKING:
    from arena.agent import Agent

HEAVY_MODULES = ("torch",)
"""Modules an agent's entry-point module must not import: ``arena list`` imports every one."""
ACT_STEPS = 20
"""Observations each acting check plays."""


class AgentCheckError(AssertionError):
    """An agent breaks a property that every arena agent must have; the message names it."""


def odd_spaces(seed: int = 0) -> dict[str, spaces.Space]:
    """Spaces few agents support, to check that an agent refuses what it cannot play."""
    found: dict[str, spaces.Space] = {
        "Text(8)": spaces.Text(8),
        "Dict(a=Discrete(3), b=Box(2,))": spaces.Dict(
            {"a": spaces.Discrete(3), "b": spaces.Box(-1.0, 1.0, (2,), np.float32)}
        ),
        "Graph(Box(2,), Discrete(2))": spaces.Graph(
            spaces.Box(-1.0, 1.0, (2,), np.float32), spaces.Discrete(2)
        ),
    }
    for space in found.values():
        space.seed(seed)
    return found


def check_agent(
    agent: type[Agent] | str,
    env_id: str,
    *,
    steps: int = 200,
    env_kwargs: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    seed: int = 0,
) -> None:
    """Checks that an agent class keeps the promises of the Agent API on an env it can play.

    In order: its entry-point module imports no heavy module (torch) in a fresh interpreter;
    it is built on the env's spaces; on spaces it cannot play (a Text, Dict or Graph
    observation or action space) it raises :class:`~arena.errors.IncompatibleEnvError` when
    built, or else acts validly on them; it learns ``steps`` steps, counting them in
    ``num_timesteps``; its state grows by no more than its ``state_allowance`` declares;
    ``learn`` resumes exactly (learning ``steps`` more gives bitwise the same state as saving,
    loading and learning ``steps`` on a fresh env, and, unless the class says otherwise in
    ``splits_exactly``, as learning ``2 * steps`` in one call); its actions are in the action
    space, exploring or not; a saved and loaded copy acts as it does; and none of this
    changes torch's thread count. Runs on the CPU.

    Args:
        agent: The agent class, or the name it is registered under.
        env_id: A registered env id the agent can play.
        steps: Steps per ``learn`` call; the check makes three.
        env_kwargs: Arguments to ``gym.make``.
        config: Hyperparameters (names as in ``arena info``); the config's defaults otherwise.
        seed: Seeds the agent.

    Raises:
        AgentCheckError: The first property the agent breaks, named in the message.
    """
    from arena.registry import agent_class
    from arena.registry import make_env as registered_env

    cls = agent_class(agent) if isinstance(agent, str) else agent
    name = cls.name
    check_light_import(cls)

    def make_env() -> gym.Env:
        return registered_env(env_id, **(env_kwargs or {}))

    def build(observation_space: spaces.Space, action_space: spaces.Space) -> Agent:
        from arena.config import build_config

        built = build_config(cls.Config, dict(config or {}), source=f"{name} config")
        return cls(observation_space, action_space, config=built, seed=seed, device="cpu")

    env = make_env()
    with _threads_kept(name):
        with _expect(name, "builds on the env's spaces"):
            agent_ = build(env.observation_space, env.action_space)
        _check_incompatible(name, build, env, seed)
        with _expect(name, f"learns {steps} steps on {env_id}"):
            agent_.learn(env, steps, progress=False)
        if agent_.num_timesteps < steps:
            detail = f"num_timesteps is {agent_.num_timesteps} after learning {steps} steps"
            _fail(name, "counts its steps", detail)
        _check_allowance(name, agent_, build(env.observation_space, env.action_space))
        with tempfile.TemporaryDirectory() as tmp:
            resumed = _save_load(agent_, Path(tmp) / "first")
            with _expect(name, "learns again after learning (a second learn call)"):
                agent_.learn(env, steps, progress=False)
            with _expect(name, "learns after a save and a load"):
                resumed.learn(make_env(), steps, progress=False)
            _check_resume(name, agent_, resumed, steps)
            if cls.splits_exactly:
                whole = build(env.observation_space, env.action_space)
                with _expect(name, f"learns {2 * steps} steps in one call"):
                    whole.learn(make_env(), 2 * steps, progress=False)
                _check_same(name, f"learns {2 * steps} steps in one call as in two", whole, agent_)
            _check_acts(name, agent_, make_env(), seed)
            _check_same_acts(name, agent_, make_env(), Path(tmp) / "second")


def check_resume(first: Agent, resumed: Agent, steps: int) -> None:
    """Checks that two agents that should be in the same state after ``learn`` are.

    ``first`` learned N steps, then ``steps`` more; ``resumed`` was saved after the N steps,
    loaded, and learned ``steps`` on a fresh env of the same id and arguments.

    Raises:
        AgentCheckError: Their step counts, arrays or JSON state differ; the message names them.
    """
    _check_resume(first.name, first, resumed, steps)


def check_light_import(cls: type) -> None:
    """Checks that importing ``cls``'s module in a fresh interpreter imports no heavy module.

    Raises:
        AgentCheckError: It imports torch (``arena list`` would), or does not import at all.
    """
    module = cls.__module__
    if module == "__main__":
        return
    code = (
        f"import sys, json, {module}; "
        f"print(json.dumps([m for m in {list(HEAVY_MODULES)!r} if m in sys.modules]))"
    )
    path = os.pathsep.join(p for p in sys.path if p)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=120,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        _fail(cls.name, "imports in a fresh interpreter", f"import {module} failed: {last}")
    heavy = json.loads(done.stdout.strip().splitlines()[-1])
    if heavy:
        _fail(
            cls.name,
            "imports nothing heavy at `arena list`",
            f"import {module} imports {', '.join(heavy)}; import it inside the methods that "
            "need it (arena list imports every agent's module)",
        )


def _check_allowance(name: str, learned: Agent, fresh: Agent) -> None:
    """Fails when learning grew the state beyond what a fresh agent's
    :meth:`~arena.agent.Agent.state_allowance` declares: the checkpoint reader would refuse a
    larger config's checkpoint (it tolerates only a small margin beyond the declared size)."""
    from arena.checkpoint import state_bytes

    grown = state_bytes(learned.state()) - state_bytes(fresh.state())
    allowed = fresh.state_allowance()
    if grown > allowed:
        _fail(
            name,
            "declares what learning adds to its state (Agent.state_allowance)",
            f"after learning, its state holds {grown:,} bytes more than a fresh agent's, and "
            f"state_allowance() allows {allowed:,} (an optimizer's moments, say, appear only "
            "once it has stepped)",
        )


def _check_incompatible(
    name: str, build: Callable[[spaces.Space, spaces.Space], Agent], env: gym.Env, seed: int
) -> None:
    for what, space in odd_spaces(seed).items():
        for role, obs_space, act_space in (
            ("observation", space, env.action_space),
            ("action", env.observation_space, space),
        ):
            property_ = f"refuses a {what} {role} space with IncompatibleEnvError or plays it"
            try:
                agent = build(obs_space, act_space)
            except IncompatibleEnvError:
                continue
            except Exception as e:
                _fail(name, property_, f"building it raised {type(e).__name__}: {e}")
            with _expect(name, property_ + " (it was accepted, then acting failed)"):
                for _ in range(3):
                    action = agent.act(obs_space.sample(), explore=False)
                    if not act_space.contains(action):
                        _fail(name, property_, f"it acted {action!r}, not in {act_space}")


def _check_resume(name: str, first: Agent, resumed: Agent, steps: int) -> None:
    property_ = f"resumes exactly (learn {steps}, then {steps} more, as after a save and load)"
    _check_same(name, property_, first, resumed)


def _check_same(name: str, property_: str, first: Agent, resumed: Agent) -> None:
    """Fails ``property_`` unless the two agents' counts, states and open episodes are equal."""
    from arena.checkpoint import rng_state
    from arena.rollout import episode_to_checkpoint

    if first.num_timesteps != resumed.num_timesteps:
        _fail(name, property_, f"num_timesteps {first.num_timesteps} vs {resumed.num_timesteps}")
    mine, theirs = first.state(), resumed.state()
    if set(mine) != set(theirs):
        _fail(name, property_, f"state names differ: {sorted(set(mine) ^ set(theirs))}")
    differ = [k for k in mine if not _same(_array(mine[k]), _array(theirs[k]))]
    if differ:
        shown = ", ".join(differ[:5]) + (f" and {len(differ) - 5} more" if len(differ) > 5 else "")
        _fail(name, property_, f"state arrays differ: {shown}")
    if rng_state(first) != rng_state(resumed):
        _fail(name, property_, "their np_random generators are in different states")
    extra = [json.dumps(a.extra_state(), sort_keys=True, default=str) for a in (first, resumed)]
    if extra[0] != extra[1]:
        _fail(name, property_, f"extra_state differs: {extra[0][:200]} vs {extra[1][:200]}")
    (entry, actions), (their_entry, their_actions) = (
        episode_to_checkpoint(a.open_episode, a.action_space) for a in (first, resumed)
    )
    shown = [json.dumps(e, sort_keys=True) for e in (entry, their_entry)]
    if shown[0] != shown[1] or not _same(list(actions.values()), list(their_actions.values())):
        _fail(name, property_, f"the open episodes differ: {shown[0][:200]} vs {shown[1][:200]}")


def _check_acts(name: str, agent: Agent, env: gym.Env, seed: int) -> None:
    for explore in (False, True):
        property_ = f"acts in the action space (explore={explore})"
        for observation in _observations(agent, env, seed):
            with _expect(name, property_):
                action = agent.act(observation, explore=explore)
            if not env.action_space.contains(action):
                _fail(name, property_, f"it returned {action!r}, not in {env.action_space}")


def _check_same_acts(name: str, agent: Agent, env: gym.Env, path: Path) -> None:
    property_ = "acts as it did after a save and a load (explore=False)"
    observations = list(_observations(agent, env, 0))
    loaded = _save_load(agent, path)
    agent.reset()
    loaded.reset()
    for observation in observations:
        with _expect(name, property_):
            mine, theirs = agent.act(observation), loaded.act(observation)
        if not _same(mine, theirs):
            _fail(
                name, property_, f"on the same observation it acted {mine!r}, the copy {theirs!r}"
            )


def _observations(agent: Agent, env: gym.Env, seed: int) -> Iterator[Any]:
    """``ACT_STEPS`` observations of ``env``, played with ``agent``'s greedy actions."""
    observation, _ = env.reset(seed=seed)
    agent.reset()
    for _ in range(ACT_STEPS):
        yield observation
        observation, _, terminated, truncated, _ = env.step(agent.act(observation))
        if terminated or truncated:
            observation, _ = env.reset()
            agent.reset()


def _save_load(agent: Agent, path: Path) -> Agent:
    from arena.checkpoint import load_checkpoint

    with _expect(agent.name, "saves and loads"):
        agent.save(path)
        return load_checkpoint(path, device="cpu", agent_class=type(agent))


@contextmanager
def _threads_kept(name: str) -> Iterator[None]:
    """Runs the block with torch at an unusual thread count, and fails if it changes."""
    import torch

    before = torch.get_num_threads()
    probe = 3 if before != 3 else 2
    torch.set_num_threads(probe)
    try:
        yield
        if torch.get_num_threads() != probe:
            _fail(
                name,
                "leaves torch's thread count as it found it",
                f"torch had {probe} threads before and {torch.get_num_threads()} after; the core "
                "sets them around learn and evaluate (Agent.threads), an agent never does",
            )
    finally:
        torch.set_num_threads(before)


@contextmanager
def _expect(name: str, property_: str) -> Iterator[None]:
    """Turns an exception in the block into an :class:`AgentCheckError` naming the property."""
    try:
        yield
    except AgentCheckError:
        raise
    except Exception as e:
        _fail(name, property_, f"{type(e).__name__}: {e}")


def _fail(name: str, property_: str, detail: str) -> None:
    raise AgentCheckError(f"{name} fails the check '{property_}': {detail}")


def _array(value: Any) -> np.ndarray:
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def _same(a: Any, b: Any) -> bool:
    """Whether two actions or arrays are equal, bit for bit where they are floats."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    x, y = _array(a), _array(b)
    return x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)
