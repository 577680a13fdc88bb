"""Generated documentation artefacts, each with the model outputs it was drawn from recorded beside it.

``python -m experiments.docs`` runs the runs behind each artefact, draws it, and writes beside it
``<artefact>.json``: the command, the runs' overrides and a hash of each run's model output (the bytes of its
weekly table and the numbers of its kpis.json, as scripts/output_hashes.py hashes them).
``python -m experiments.docs --check`` runs them again and exits 1, naming the artefact, when a run's output no
longer has the recorded hash: the figure is older than the model and must be regenerated (``--check`` draws
nothing).  ``--only NAME`` restricts either to one artefact.

Artefacts (:data:`ARTEFACTS`):

* ``readme_run`` — README's first figure (docs/figures/readme_run.png): the default urban community under the
  baseline and five-society linkage, 260 weeks after the warm-up, drawn by ``python -m experiments.plot``.

Other docs figures (sensitivity, calibration, validation, warm-up, replications) are written by their own
commands and are not yet checked here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sim.runs.outputs import KPIS_FILE, TIMESERIES_FILE, write_atomic
from sim.runs.runner import run
from sim.settings.config import settings_for

ROOT = Path(__file__).resolve().parents[1]
LABEL_KEYS = ("label_en", "label_zh")  # display labels in kpis.json: not model output


@dataclass(frozen=True)
class Artefact:
    """A generated figure: where it goes, the runs it draws (overrides of ``python -m sim``), how it is drawn."""

    name: str
    path: str                      # relative to the repository
    runs: tuple[tuple[str, ...], ...]
    lang: str = "en"
    width: str = "double"

    @property
    def record(self) -> Path:
        return ROOT / Path(self.path).with_suffix(".json")

    def command(self) -> str:
        return f"python -m experiments.docs --only {self.name}"


ARTEFACTS = {a.name: a for a in (
    Artefact("readme_run", "docs/figures/readme_run.png",
             (("community=urban_traditional", "policy=baseline"),
              ("community=urban_traditional", "policy=five_society"))),
)}


def _numbers(report: object) -> object:
    if isinstance(report, dict):
        return {k: _numbers(v) for k, v in report.items() if k not in LABEL_KEYS}
    return report


def output_hash(run_dir: Path) -> str:
    """A hash of a run's model output: its weekly table's bytes and its kpis.json's numbers (not its labels)."""
    digest = hashlib.sha256((run_dir / TIMESERIES_FILE).read_bytes())
    kpis = json.loads((run_dir / KPIS_FILE).read_text(encoding="utf-8"))
    digest.update(json.dumps(_numbers(kpis), sort_keys=True).encode())
    return digest.hexdigest()[:16]


def run_all(artefact: Artefact, folder: Path) -> list[Path]:
    """Run the artefact's runs into ``folder``; returns their run folders."""
    dirs = []
    for i, overrides in enumerate(artefact.runs):
        out = folder / f"run{i}"
        run(settings_for("progress=false", *overrides), out, progress=False)
        dirs.append(out)
    return dirs


def draw(artefact: Artefact, dirs: list[Path]) -> None:
    """Draw the artefact from its runs into its path (as ``python -m experiments.plot`` draws runs)."""
    from experiments.plot import main as plot_main

    target = ROOT / artefact.path
    status = plot_main([*map(str, dirs), "--lang", artefact.lang, "--width", artefact.width, "--out",
                        str(target.parent), "--name", target.stem])
    if status:
        raise RuntimeError(f"drawing {artefact.path} failed (exit {status})")
    for extra in (target.with_suffix(".svg"),):  # the docs keep the PNG only
        extra.unlink(missing_ok=True)


def generate(artefact: Artefact) -> dict:
    """Run, draw and record one artefact; returns its record."""
    with tempfile.TemporaryDirectory() as tmp:
        dirs = run_all(artefact, Path(tmp))
        draw(artefact, dirs)
        record = {"artefact": artefact.path, "command": artefact.command(),
                  "runs": [{"overrides": list(o), "output_hash": output_hash(d)}
                           for o, d in zip(artefact.runs, dirs, strict=True)],
                  "figure_sha256": hashlib.sha256((ROOT / artefact.path).read_bytes()).hexdigest()}
    write_atomic(artefact.record, record)
    return record


def check(artefact: Artefact) -> list[str]:
    """What is stale about one artefact (empty: current): a missing figure or record, a run whose output no
    longer has the recorded hash, a figure changed since it was recorded."""
    problems = []
    if not (ROOT / artefact.path).is_file():
        return [f"{artefact.path} is missing"]
    if not artefact.record.is_file():
        return [f"{artefact.path} has no record of the model output it shows ({artefact.record.name})"]
    record = json.loads(artefact.record.read_text(encoding="utf-8"))
    if hashlib.sha256((ROOT / artefact.path).read_bytes()).hexdigest() != record.get("figure_sha256"):
        problems.append(f"{artefact.path} was changed after it was recorded")
    recorded = {tuple(r["overrides"]): r["output_hash"] for r in record.get("runs", [])}
    with tempfile.TemporaryDirectory() as tmp:
        for overrides, run_dir in zip(artefact.runs, run_all(artefact, Path(tmp)), strict=True):
            now = output_hash(run_dir)
            if recorded.get(tuple(overrides)) != now:
                problems.append(f"{artefact.path} is older than the model: the run {' '.join(overrides)} now "
                                f"gives output {now}, the figure shows {recorded.get(tuple(overrides))}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.docs", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="run again and compare with the recorded output hashes; "
                                                         "exit 1 if any artefact is stale (draws nothing)")
    ap.add_argument("--only", metavar="NAME", help=f"one artefact: {', '.join(ARTEFACTS)}")
    args = ap.parse_args(argv)
    if args.only is not None and args.only not in ARTEFACTS:
        print(f"error: --only {args.only}: allowed: {', '.join(ARTEFACTS)}", file=sys.stderr)
        return 2
    chosen = [ARTEFACTS[args.only]] if args.only else list(ARTEFACTS.values())
    if args.check:
        stale = [p for a in chosen for p in check(a)]
        for p in stale:
            print(f"stale: {p}; regenerate with python -m experiments.docs", file=sys.stderr)
        print(f"{len(chosen) - len({s.split(' ')[0] for s in stale})} of {len(chosen)} artefacts current")
        return 1 if stale else 0
    for a in chosen:
        record = generate(a)
        print(f"wrote {a.path} and {a.record.relative_to(ROOT)} ({len(record['runs'])} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
