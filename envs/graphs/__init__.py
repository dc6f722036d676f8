"""Node classification on graphs: the env, its graphs and its renderer."""
