"""``python -m sim``: run a scenario (see ``python -m sim --help``)."""

from sim.runs.cli import main

if __name__ == "__main__":
    main()
