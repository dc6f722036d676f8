"""Reconstruction as a game: rebuild each clean input of a batch, shown corrupted or not.

:class:`ReconstructionEnv` (``arena/Reconstruction-v0`` and its presets) is the env; its
corruptions live in :mod:`envs.reconstruction.corruption`, its data in
:mod:`envs.reconstruction.data` and its frames in :mod:`envs.reconstruction.render`.
"""

from __future__ import annotations

from envs.reconstruction.env import ReconstructionEnv

__all__ = ["ReconstructionEnv"]
