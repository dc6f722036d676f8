"""The classification game: labelled datasets served as batches, and its renderer."""
