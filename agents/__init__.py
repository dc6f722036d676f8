"""gym-arena's built-in agents. Each is registered in pyproject.toml under ``arena.agents``."""
