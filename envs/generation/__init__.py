"""The generation game: target distributions, their metrics, the env and its renderer."""
