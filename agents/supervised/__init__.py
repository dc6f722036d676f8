"""Supervised classifiers as agents of the classification game (``arena/Classification-v0``).

The hyperparameters are in :mod:`.config`; ``perceptron`` (numpy) lives in :mod:`.perceptron`;
``mlp`` and ``cnn`` in :mod:`.neural`, which imports torch only through :mod:`.networks` when an
agent is built.
"""
