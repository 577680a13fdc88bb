"""Five-society linkage (五社联动) community governance simulation on Mesa, driven by Hydra."""

__version__ = "0.1.0"
