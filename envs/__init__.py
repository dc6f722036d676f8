"""gym-arena's own Gymnasium envs, under the id namespace ``arena/``.

Importing this package registers them, so ``gym.make("arena/Chain-v0")`` works after
``import envs`` and through the ``envs:`` prefix (``gym.make("envs:arena/Chain-v0")``). The
``arena`` command registers them through the ``arena.envs`` entry point, like any plugin's.
"""

from __future__ import annotations

import gymnasium as gym

NAMESPACE = "arena"

# id: (entry point, max_episode_steps, kwargs)
ENVS: dict[str, tuple[str, int | None, dict]] = {
    "arena/Chain-v0": ("envs.chain:ChainEnv", 100, {}),
    "arena/Generation-v0": ("envs.generation:GenerationEnv", None, {}),
    "arena/Ring8-v0": ("envs.generation:GenerationEnv", None, {"target": "ring8"}),
    "arena/Grid25-v0": ("envs.generation:GenerationEnv", None, {"target": "grid25"}),
    "arena/DigitsGen-v0": (
        "envs.generation:GenerationEnv",
        None,
        {"target": "digits", "latent_dim": 32},
    ),
}


def register_envs() -> None:
    """Registers every ``arena/`` id that is not registered yet; safe to call more than once."""
    for env_id, (entry_point, max_steps, kwargs) in ENVS.items():
        if env_id not in gym.registry:
            gym.register(
                env_id, entry_point=entry_point, max_episode_steps=max_steps, kwargs=kwargs
            )


register_envs()
