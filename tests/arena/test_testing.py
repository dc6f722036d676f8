"""arena.testing.check_agent: every registered agent passes it, and broken agents fail it with a
message that names the broken property."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces

from arena.agent import Agent
from arena.callbacks import EpisodeTracker
from arena.registry import agent_plugins
from arena.testing import AgentCheckError, check_agent, check_light_import

# A compatible env for each registered agent, with short budgets: (env id, env kwargs, config,
# steps per learn call).
SMALL = {
    "random": ("FrozenLake-v1", {}, {}, 200),
    "q-learning": ("FrozenLake-v1", {}, {}, 300),
    "sarsa": ("arena/Chain-v0", {}, {}, 300),
    "expected-sarsa": ("FrozenLake-v1", {}, {"fast_path": False}, 300),
    "dqn": (
        "CartPole-v1",
        {},
        {"learning_starts": 50, "batch_size": 16, "hidden_sizes": (16,)},
        120,
    ),
    "perceptron": ("arena/Iris-v0", {}, {}, 3),
    "mlp": ("arena/Iris-v0", {}, {"hidden_sizes": (8,)}, 3),
    "cnn": ("arena/Digits-v0", {"flatten": False, "batch_size": 16}, {"augment": True}, 4),
    "resnet": (
        "arena/Digits-v0",
        {"flatten": False, "batch_size": 16},
        {"widths": (4, 8), "blocks": 1, "augment": True, "flip": True},
        4,
    ),
    "rnn": ("arena/Sine-v0", {"batch_size": 2, "length": 20}, {}, 4),
    "lstm": ("arena/Reber-v0", {"batch_size": 4}, {}, 4),
    "gru": ("arena/Adding-v0", {"T": 10, "batch_size": 8}, {}, 4),
    "transformer": ("arena/Text-v0", {"length": 20, "batch_size": 2}, {}, 4),
    "gan": ("arena/Ring8-v0", {"batch_size": 50}, {}, 5),
    "wgan-gp": ("arena/Ring8-v0", {"batch_size": 50}, {}, 5),
    "vae": ("arena/Ring8-v0", {"batch_size": 50}, {}, 5),
    "bigan": ("arena/Ring8-v0", {"batch_size": 50}, {"cycle_weight": 1.0}, 5),
    "cgan": ("arena/Ring8Cond-v0", {"batch_size": 50}, {}, 5),
    "infogan": ("arena/Ring8-v0", {"batch_size": 50}, {}, 5),
    "ae": ("arena/DigitsRecon-v0", {"batch_size": 16}, {}, 20),
    "sparse-ae": ("arena/DigitsRecon-v0", {"batch_size": 16}, {}, 20),
    "denoising-ae": ("arena/DigitsRecon-v0", {"batch_size": 16}, {}, 20),
    "gcn": ("arena/KarateClub-v0", {}, {}, 3),
    "gat": ("arena/KarateClub-v0", {}, {"heads": 2}, 3),
    "graphsage": ("arena/CSBM-v0", {"batch_size": 150}, {}, 3),
    "node-mlp": ("arena/KarateClub-v0", {}, {"layers": 3}, 3),
    "sb3-ppo": ("CartPole-v1", {}, {"n_steps": 32, "batch_size": 16, "hidden_sizes": (8,)}, 32),
    "sb3-a2c": ("CartPole-v1", {}, {"hidden_sizes": (8,)}, 32),
    "sb3-dqn": (
        "CartPole-v1",
        {},
        {"learning_starts": 20, "target_update_interval": 7, "hidden_sizes": (8,)},
        48,
    ),
    "sb3-sac": ("Pendulum-v1", {}, {"learning_starts": 20, "hidden_sizes": (8,)}, 40),
    "sb3-td3": (
        "Pendulum-v1",
        {},
        {"learning_starts": 20, "hidden_sizes": (8,), "action_noise_std": 0.1},
        40,
    ),
}


@pytest.mark.parametrize("name", sorted(agent_plugins()))
def test_every_registered_agent_passes_check_agent(name):
    assert name in SMALL, f"add a compatible env and a short budget for {name!r} to SMALL"
    env_id, env_kwargs, config, steps = SMALL[name]
    check_agent(name, env_id, steps=steps, env_kwargs=env_kwargs, config=config)


class Coin(Agent):
    """Plays a Discrete action from its generator in the core loop; learns nothing. The base of
    broken agents."""

    name = "coin"

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        if not isinstance(action_space, spaces.Discrete):
            raise cls.incompatible("a Discrete action space", action_space)

    def act(self, observation: Any, explore: bool = False) -> int:
        return int(self.np_random.integers(self.action_space.n))


class SplitsDifferently(Coin):
    """Has a loop of its own that starts a new episode at each learn call."""

    def _learn(self, env: Any, steps: int, callback: Any) -> None:
        tracker = EpisodeTracker(callback)
        env.reset(seed=self.env_seed())
        for _ in range(steps):
            _, reward, terminated, truncated, info = env.step(self.act(None, explore=True))
            self.num_timesteps += 1
            tracker.record(self.num_timesteps, 0, reward, terminated or truncated, info)
            if terminated or truncated:
                env.reset()
        callback.on_step(self.num_timesteps)


def test_a_sound_agent_passes():
    check_agent(Coin, "FrozenLake-v1", steps=50)


def test_an_agent_with_its_own_loop_may_say_it_does_not_split_exactly():
    check_agent(type("Declared", (SplitsDifferently,), {"splits_exactly": False}), "FrozenLake-v1")


class LeaksThreads(Coin):
    """Sets torch's threads for the whole process when it is built."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import torch

        super().__init__(*args, **kwargs)
        torch.set_num_threads(1)


class ResumesDifferently(Coin):
    """Keeps a generator of its own that the checkpoint does not hold."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.own = np.random.default_rng(7)
        self.total = np.zeros(1)

    def _learn(self, env: Any, steps: int, callback: Any) -> None:
        super()._learn(env, steps, callback)
        self.total += self.own.random()

    def state(self) -> dict[str, Any]:
        return {"total": self.total}

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        self.total = np.array(arrays["total"])


class AcceptsAnything(Coin):
    """Accepts every space, then cannot act on most of them."""

    @classmethod
    def check_spaces(cls, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        pass

    def act(self, observation: Any, explore: bool = False) -> int:
        return int(np.asarray(observation)) % int(self.action_space.n)


class ForgetsOnLoad(Coin):
    """Learns a preferred action but does not save it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.best = 0

    def _learn(self, env: Any, steps: int, callback: Any) -> None:
        super()._learn(env, steps, callback)
        self.best = 2

    def act(self, observation: Any, explore: bool = False) -> int:
        return super().act(observation) if explore else self.best


class GrowsUndeclared(Coin):
    """Keeps a table that learning creates (as an optimizer's moments appear at its first
    step), without declaring it in state_allowance."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.table: np.ndarray | None = None

    def _learn(self, env: Any, steps: int, callback: Any) -> None:
        super()._learn(env, steps, callback)
        self.table = np.zeros(1000)

    def state(self) -> dict[str, Any]:
        return {} if self.table is None else {"table": self.table}

    def load_state(self, arrays: dict[str, Any], extra: dict[str, Any]) -> None:
        self.table = arrays.get("table")


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (GrowsUndeclared, "fails the check 'declares what learning adds to its state"),
        (LeaksThreads, "fails the check 'leaves torch's thread count as it found it'"),
        (ResumesDifferently, "fails the check 'resumes exactly"),
        (AcceptsAnything, "fails the check 'refuses a Text(8) observation space"),
        (ForgetsOnLoad, "fails the check 'acts as it did after a save and a load"),
        (SplitsDifferently, "fails the check 'learns 100 steps in one call as in two'"),
    ],
)
def test_a_broken_agent_fails_with_the_property_named(broken, message):
    with pytest.raises(AgentCheckError, match=re.escape(message)) as caught:
        check_agent(broken, "FrozenLake-v1", steps=50)
    assert isinstance(caught.value, AssertionError)
    assert str(caught.value).startswith("coin fails the check")


def test_a_module_that_imports_torch_fails_the_light_import_check(tmp_path, monkeypatch):
    (tmp_path / "heavy_plugin.py").write_text(
        textwrap.dedent(
            """
            import torch

            from arena.agent import Agent


            class Heavy(Agent):
                name = "heavy"

                def act(self, observation, explore=False):
                    return 0

                def _learn(self, env, steps, callback):
                    pass
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from heavy_plugin import Heavy

    with pytest.raises(AgentCheckError, match=r"'imports nothing heavy at `arena list`'.*torch"):
        check_light_import(Heavy)
