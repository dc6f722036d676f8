"""Tabular TD agents: Q-learning, SARSA and Expected SARSA, with numba-compiled loops."""
