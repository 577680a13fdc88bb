"""Exit codes of ``python -m sim`` and of a sweep (documented in sim/runs/cli.py and sim/runs/sweep.py).

A module of its own, importing nothing, so that ``python -m sim --help`` need not import the sweep machinery
(pandas, the model) to know them.
"""

EXIT_NOT_STARTED = 2       # the command line was refused or the run could not start: nothing ran
EXIT_JOBS_FAILED = 3       # the run (a sweep's job) started and failed
EXIT_COLLATION_FAILED = 4  # a sweep's runs finished but collation failed
