"""Labels and tables: every label in English and Chinese (``glossary`` and ``glossary.yaml``), the command line's KPI
table (``kpi_table``), and the ODD's generated tables (``docs``, ``lever_rules``: ``python -m sim.tables.docs``).

Above the model (it labels the model's outputs); below the runs (tests/test_layers.py).
"""
