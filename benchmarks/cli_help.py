"""How long ``python -m sim --help`` takes, and what it imports (issue 27).

``python -m benchmarks.cli_help [--repeat 5] [--write]`` runs ``python -m sim --help`` ``--repeat`` times in fresh
interpreters and reports the median wall time, the import time of ``sim.runs.cli`` (``python -X importtime``)
and whether any heavy module (pandas, numpy, mesa, matplotlib, seaborn, pyarrow, scipy) was imported; ``--write``
puts the figures into benchmarks/results.md ("python -m sim --help").  The help needs only Hydra and the config
schema: the run's machinery is imported where it is used (sim/runs/cli.py).  tests/test_cli_help.py checks the
imports, not the time (a time bound would fail on a loaded machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.md"
BEGIN, END = "<!-- BEGIN cli-help -->", "<!-- END cli-help -->"
HEAVY = ("pandas", "numpy", "mesa", "matplotlib", "seaborn", "pyarrow", "scipy")


def help_imports() -> tuple[dict[str, float], str]:
    """One ``python -X importtime -m sim --help``: {top-level module: cumulative import seconds}, the help text."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "sim", "--help"], capture_output=True,
                          text=True, cwd=ROOT, env=env, check=True)
    modules = {}
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
            if cumulative.isdigit():
                modules[name] = int(cumulative) / 1e6
    return modules, proc.stdout


def heavy_modules(modules: dict[str, float]) -> list[str]:
    """The heavy modules among ``modules`` (a heavy package or any of its submodules)."""
    return sorted({m.split(".")[0] for m in modules if m.split(".")[0] in HEAVY})


def measure(repeat: int) -> dict:
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "--help"], capture_output=True, cwd=ROOT, check=True)
        walls.append(time.perf_counter() - start)
    modules, _ = help_imports()
    return {"repeat": repeat, "wall_median_s": statistics.median(walls), "wall_min_s": min(walls),
            "cli_import_s": modules.get("sim.runs.cli", float("nan")), "heavy": heavy_modules(modules),
            "load": os.getloadavg()[0], "cores": os.cpu_count()}


def section(r: dict, before: str = "") -> str:
    return "\n".join([
        BEGIN, "## python -m sim --help", "",
        f"`python -m benchmarks.cli_help --repeat {r['repeat']} --write`; this machine: {r['cores']} cores, load "
        f"average {r['load']:.1f}.", "",
        "| measure | value |", "|---|---:|",
        f"| wall time of `python -m sim --help`, median of {r['repeat']} (min) | {r['wall_median_s']:.2f} s "
        f"({r['wall_min_s']:.2f} s) |",
        f"| import of `sim.runs.cli` (`-X importtime`, cumulative) | {r['cli_import_s']:.2f} s |",
        f"| heavy modules imported ({', '.join(HEAVY)}) | {', '.join(r['heavy']) or 'none'} |",
        *([before] if before else []), END])


def write_section(text: str, path: Path = RESULTS) -> None:
    old = path.read_text(encoding="utf-8")
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + text + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli_help", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of python -m sim --help (fresh interpreters)")
    parser.add_argument("--before", default="", help="a Markdown table row to add (e.g. the figure before a change)")
    parser.add_argument("--write", action="store_true", help="write the figures into benchmarks/results.md")
    args = parser.parse_args(argv)
    result = measure(args.repeat)
    text = section(result, args.before)
    print(text)
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
