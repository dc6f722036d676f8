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
    "arena/Classification-v0": ("envs.classification.env:ClassificationEnv", None, {}),
    # Digits is flat here so that SB3's checker (1-D or large uint8 images only) accepts the
    # id; image agents ask for flatten=False in their presets.
    "arena/Digits-v0": (
        "envs.classification.env:ClassificationEnv",
        None,
        {"dataset": "digits", "flatten": True},
    ),
    # Flat for SB3's checker, as Digits-v0; the files' own 60,000/10,000 split.
    "arena/FashionMNIST-v0": (
        "envs.classification.env:ClassificationEnv",
        None,
        {"dataset": "fashion-mnist", "flatten": True},
    ),
    "arena/MNIST-v0": (
        "envs.classification.env:ClassificationEnv",
        None,
        {"dataset": "mnist", "flatten": True},
    ),
    "arena/Iris-v0": ("envs.classification.env:ClassificationEnv", None, {"dataset": "iris"}),
    "arena/Wine-v0": ("envs.classification.env:ClassificationEnv", None, {"dataset": "wine"}),
    "arena/BreastCancer-v0": (
        "envs.classification.env:ClassificationEnv",
        None,
        {"dataset": "breast_cancer"},
    ),
    "arena/XOR-v0": ("envs.classification.env:ClassificationEnv", None, {"dataset": "xor"}),
    "arena/SequencePrediction-v0": ("envs.sequence:SequencePredictionEnv", None, {}),
    "arena/Sine-v0": ("envs.sequence.sine:SineEnv", None, {}),
    "arena/Reber-v0": ("envs.sequence.reber:ReberEnv", None, {}),
    "arena/Adding-v0": ("envs.sequence.adding:AddingEnv", None, {}),
    "arena/Text-v0": ("envs.sequence.text:TextEnv", None, {}),
    "arena/Generation-v0": ("envs.generation.env:GenerationEnv", None, {}),
    "arena/Ring8-v0": ("envs.generation.env:GenerationEnv", None, {"target": "ring8"}),
    "arena/Grid25-v0": ("envs.generation.env:GenerationEnv", None, {"target": "grid25"}),
    "arena/DigitsGen-v0": (
        "envs.generation.env:GenerationEnv",
        None,
        {"target": "digits", "latent_dim": 32},
    ),
    # Reads Debian's dataset-fashion-mnist; without it, making the id says how to get it.
    "arena/FashionGen-v0": (
        "envs.generation.env:GenerationEnv",
        None,
        {"target": "fashion-mnist", "latent_dim": 64},
    ),
    "arena/Ring8Cond-v0": (
        "envs.generation.env:GenerationEnv",
        None,
        {"target": "ring8", "conditional": True},
    ),
    "arena/Grid25Cond-v0": (
        "envs.generation.env:GenerationEnv",
        None,
        {"target": "grid25", "conditional": True},
    ),
    "arena/DigitsCond-v0": (
        "envs.generation.env:GenerationEnv",
        None,
        {"target": "digits", "latent_dim": 32, "conditional": True},
    ),
    # Flat, as Digits-v0, for SB3's checker; image agents ask for flatten=False.
    "arena/Reconstruction-v0": (
        "envs.reconstruction:ReconstructionEnv",
        None,
        {"flatten": True},
    ),
    "arena/DigitsRecon-v0": (
        "envs.reconstruction:ReconstructionEnv",
        None,
        {"dataset": "digits", "flatten": True},
    ),
    "arena/DigitsDenoise-v0": (
        "envs.reconstruction:ReconstructionEnv",
        None,
        {"dataset": "digits", "flatten": True, "noise": "mask", "p": 0.25},
    ),
    "arena/NodeClassification-v0": ("envs.graphs.env:NodeClassificationEnv", None, {}),
    "arena/KarateClub-v0": ("envs.graphs.env:NodeClassificationEnv", None, {"graph": "karate"}),
    "arena/CSBM-v0": ("envs.graphs.env:NodeClassificationEnv", None, {"graph": "csbm"}),
}


def register_envs() -> None:
    """Registers every ``arena/`` id, and the success rules of Gymnasium's envs
    (``envs.success``); safe to call more than once.

    An id that someone else registered first, differently, is registered again as ours, so that
    arena's plugin loader sees the clash and names both registrants instead of running theirs.
    """
    from envs.success import register_success_rules

    register_success_rules()
    for env_id, (entry_point, max_steps, kwargs) in ENVS.items():
        spec = gym.registry.get(env_id)
        ours = (entry_point, max_steps, kwargs)
        if spec is None or (spec.entry_point, spec.max_episode_steps, spec.kwargs) != ours:
            gym.register(
                env_id, entry_point=entry_point, max_episode_steps=max_steps, kwargs=kwargs
            )


register_envs()
