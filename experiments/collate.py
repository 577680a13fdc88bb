"""``python -m experiments.collate <sweep_dir>``: the same as ``python -m sim.collate`` (the collation lives in sim)."""

import sys

from sim.collate import main

if __name__ == "__main__":
    sys.exit(main())
