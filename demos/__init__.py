"""gym-arena's pygame demos, registered under ``arena.demos`` like any plugin's.

Run one with ``arena demo NAME`` or ``python -m demos.NAME``; ``arena demo --list`` lists them.
"""
