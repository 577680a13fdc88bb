"""Sweep definitions (Hydra experiment configs), collation and comparison of sweeps."""
