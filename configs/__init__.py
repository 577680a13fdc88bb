"""Hydra config tree, shipped inside the package as ``sim.configs`` (see pyproject.toml)."""
