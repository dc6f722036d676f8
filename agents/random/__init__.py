"""The random agent: the baseline every agent must beat."""
