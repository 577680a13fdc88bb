"""Parameters and config: how a parameter is declared (``params``), the schema of every parameter (``schema``),
validation and composition with Hydra (``config``), and the command line's checks (``overrides``).

The bottom layer of ``sim``, with the levers (:mod:`sim.levers`, one module per policy lever, whose parameters are
part of the schema): it imports nothing of the model, the tables or the runs (tests/test_layers.py).
"""
