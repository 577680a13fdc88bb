"""Hydra config search path for the ready-made experiments (``+experiment=NAME``)."""
