"""Stable-Baselines3 algorithms as agents, trained by SB3 itself, and the SB3 zip importer."""
