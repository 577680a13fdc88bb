"""Running: the run files (``outputs``), one run and many (``runner``), each job isolated in a forked child
(``isolation``), Hydra sweeps (``sweep``), collation (``collate``: ``python -m sim.runs.collate``) and the command
line (``cli``: ``python -m sim``).

The top layer of ``sim`` (tests/test_layers.py).
"""
