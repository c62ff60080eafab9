"""How a node is read: one fixed script per area sent once (script.py) and a run's cache of
what was read (cache.py); each area's own facts live in <area>/facts.py."""
