"""Five-society linkage (五社联动) community governance simulation on Mesa, driven by Hydra."""

__version__ = "0.3.0"  # = pyproject.toml's (tests/test_release.py); manifests record it
