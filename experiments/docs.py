"""Generated documentation artefacts, each with the model outputs it was drawn from recorded beside it.

Two kinds of artefact, each figure with a record ``<figure>.json`` beside it:

* a *run artefact* (:class:`Artefact`): ``python -m experiments.docs`` runs its runs, draws it, and records the
  command, the runs' overrides and a hash of each run's model output (the bytes of its weekly table and the numbers
  of its kpis.json, as scripts/output_hashes.py hashes them);
* a *study* (:class:`Study`): a study command exactly as its docs page documents it (``python -m <module> <args>``)
  runs as a subprocess with this Python, its ``--out`` folder (and the warm-up's ``--figures``) in a temporary
  directory (``--keep DIR`` keeps it in ``DIR/<name>``: the tables and report the docs quote); each figure it
  writes there is copied to its place under docs/figures, and its record holds the command, the study invocation
  that drew it, the figure's sha256, the study's wall time (measured here, all steps) and what the study reports
  about its size: its output lines that count runs and the time and run entries of its ``summary.json``.  A study
  may take several steps: the pilot withdrawal's Chinese figure is ``--render-only --lang zh`` of the same
  output folder, so it shows the same yearly table as the English one.  Nothing is copied unless every step
  succeeds.

Each record also holds the *model fingerprint* (:func:`model_fingerprint`): a hash of the golden output hashes in
tests/golden/outputs.json, which tests/test_golden.py keeps equal to what the model gives today and which are
rewritten (``python scripts/output_hashes.py --golden --update``) whenever the model's outputs change.
``python -m experiments.docs --check`` is the cheap check (no run), the same for both kinds: it exits 1, naming
the figure, when a record is missing, its fingerprint is not today's (the figure is older than the model) or the
file changed after it was recorded.  ``--check --rerun`` runs a run artefact's runs again and compares each run's
own output hash; a study is not rerun by the check (it runs for minutes): ``--check --rerun --only STUDY`` exits 2
saying to regenerate it with ``python -m experiments.docs --only STUDY``, and without ``--only`` studies get the
cheap check.  ``--only NAME`` restricts any of them to one artefact; without it everything is regenerated (about
70 minutes on this 2-core machine, one study at a time, 2026-12-08: sensitivity 31.5, calibration 18.8,
replications 8.1, decomposition 6.0, warm-up 2.7, advice 0.7; the pilot withdrawal 1.1 on 2026-12-07).

Artefacts (:data:`ARTEFACTS`, :data:`STUDIES`):

* ``readme_run`` — README's first figure (docs/figures/readme_run.png): the default urban community under the
  baseline and five-society linkage, 260 weeks after the warm-up, drawn by ``python -m experiments.plot``.
* ``replications_halfwidth`` — ``python -m experiments.replications`` (docs/replications.md): halfwidth.png.
* ``advice`` — ``python -m experiments.advise --mixes 16 --sets 4 --seeds 2 --jobs 2`` (docs/advice.md).
* ``decomposition_relocation`` — ``python -m experiments.decompose community=relocation --seeds 5 --sets 4
  --posterior`` (README's decomposition table and docs/decomposition.md).
* ``pilot_withdrawal`` — ``python -m experiments.pilot_withdrawal`` then ``--render-only --lang zh`` (README):
  pilot_withdrawal_en.png and pilot_withdrawal_zh.png.
* ``warmup`` — ``python -m experiments.warmup`` (docs/warmup.md): the eight warmup_<indicator>.png.
* ``calibration`` — ``python -m experiments.calibrate --write-config`` (docs/calibration.md, docs/validation.md):
  calibration_parameters.png and validation_predictive.png.  Its config goes to the temporary folder, and the
  figures are copied only if it is the shipped one (:attr:`Step.matches`): a calibration that moved is a change
  of the model's inputs, to be written on purpose, never as a side effect of drawing the docs (18.8 min).
* ``sensitivity_contrast`` — ``python -m experiments.sensitivity method=screen --contrast baseline --steps 260
  community=urban_traditional,relocation`` (docs/sensitivity.md): Morris and Sobol indices and their convergence
  for each of the two presets, contrast_<method>[_convergence]_<preset>.png.

A figure is recorded only once it has been regenerated through this command: until then it is listed in
:data:`PENDING` with the command that writes it (``python -m experiments.docs --only NAME``), and the checks
skip it.  tests/test_docs_records.py fails on a docs figure that is neither recorded nor pending, so none can be added
without a record.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sim.runs.outputs import KPIS_FILE, TIMESERIES_FILE, write_atomic
from sim.runs.runner import run
from sim.settings.config import settings_for

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "outputs.json"  # the model's golden output hashes (scripts/output_hashes.py)
FIGURES = ROOT / "docs" / "figures"
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
        return record_path(self.path)

    def command(self) -> str:
        return f"python -m experiments.docs --only {self.name}"


ARTEFACTS = {a.name: a for a in (
    Artefact("readme_run", "docs/figures/readme_run.png",
             (("community=urban_traditional", "policy=baseline"),
              ("community=urban_traditional", "policy=five_society"))),
)}


@dataclass(frozen=True)
class Step:
    """One invocation of a study: its documented arguments (``{out}`` stands for the output folder, a temporary
    one) and the figures it leaves there, each with where it goes in the docs."""

    args: tuple[str, ...]
    figures: tuple[tuple[str, str], ...]  # (file the study writes in {out}, path in the repository)
    shown: tuple[str, ...] = ("{out}",)   # arguments left out of the recorded command (the temporary folders)
    # (file the study writes in {out}, shipped file it must equal, comment lines aside): a study that re-derives a
    # shipped input (the calibration's point estimate) draws the docs only if it gives that input again
    matches: tuple[tuple[str, str], ...] = ()

    def command(self, module: str) -> str:
        """The documented invocation, without the temporary folders."""
        args, skip = list(self.args), set(self.shown)
        kept = [a for i, a in enumerate(args) if a not in skip and not (i + 1 < len(args) and args[i + 1] in skip)]
        return " ".join(("python", "-m", module, *kept))


@dataclass(frozen=True)
class Study:
    """A figure (or several) drawn by a study command: ``python -m <module> <args>`` runs with its output folder in
    a temporary directory, and each figure it writes there is copied to its place under docs/figures."""

    name: str
    module: str
    steps: tuple[Step, ...]

    @property
    def paths(self) -> list[str]:
        return [dest for step in self.steps for _, dest in step.figures]

    @property
    def path(self) -> str:
        return self.paths[0]

    def command(self) -> str:
        return f"python -m experiments.docs --only {self.name}"


def _out(name: str, module: str, *args: str, figure: str, dest: str | None = None) -> Study:
    """A study whose one figure ``figure`` lands in its ``--out`` folder; it goes to docs/figures/<name>.png."""
    return Study(name, module, (Step((*args, "--out", "{out}"), ((figure, dest or f"docs/figures/{name}.png"),)),))


WARMUP_INDICATORS = ("callback_satisfaction", "completion_rate", "satisfaction_mean", "self_org_members",
                     "social_orgs_active", "trust_mean", "volunteer_active_share_2plus", "volunteers_per_10k")

SENSITIVITY_PRESETS = ("urban_traditional", "relocation")

STUDIES = {s.name: s for s in (
    _out("replications_halfwidth", "experiments.replications", figure="halfwidth.png"),
    _out("advice", "experiments.advise", "--mixes", "16", "--sets", "4", "--seeds", "2", "--jobs", "2",
         figure="advice.png"),
    # the design of README's table and caption (docs/decomposition/relocation/decomposition.csv, column command)
    _out("decomposition_relocation", "experiments.decompose", "community=relocation", "--seeds", "5", "--sets", "4",
         "--posterior", figure="decomposition.png"),
    # the Chinese figure is drawn from the same yearly table: --render-only runs nothing and renders <out>/yearly.csv
    Study("pilot_withdrawal", "experiments.pilot_withdrawal", (
        Step(("--out", "{out}"), (("pilot_withdrawal.png", "docs/figures/pilot_withdrawal_en.png"),)),
        Step(("--render-only", "--lang", "zh", "--out", "{out}"),
             (("pilot_withdrawal.png", "docs/figures/pilot_withdrawal_zh.png"),)))),
    # the calibration writes its point estimate into its output folder: the figures are drawn only if it is the
    # shipped one (configs/behaviour/calibrated.yaml and the posterior sample beside it)
    Study("calibration", "experiments.calibrate", (
        Step(("--write-config", "--config-path", "{out}/config/calibrated.yaml", "--out", "{out}"),
             (("parameters.png", "docs/figures/calibration_parameters.png"),
              ("predictive.png", "docs/figures/validation_predictive.png")),
             shown=("{out}", "{out}/config/calibrated.yaml"),
             matches=(("config/calibrated.yaml", "configs/behaviour/calibrated.yaml"),
                      ("config/posterior.csv", "configs/behaviour/posterior.csv"))),)),
    # what moves five_society's gain over the baseline, in the two presets README's tables lead with
    Study("sensitivity_contrast", "experiments.sensitivity", (
        Step(("method=screen", "--contrast", "baseline", "--steps", "260", "community=urban_traditional,relocation",
              "--out", "{out}"),
             tuple((f"{c}/{m}/{f}.png", f"docs/figures/contrast_{m}{'' if f == 'indices' else '_' + f}_{c}.png")
                   for c in SENSITIVITY_PRESETS for m in ("morris", "sobol") for f in ("indices", "convergence"))),)),
    Study("warmup", "experiments.warmup", (
        Step(("--out", "{out}", "--figures", "{out}"),
             tuple((f"warmup_{i}.png", f"docs/figures/warmup_{i}.png") for i in WARMUP_INDICATORS)),)),
)}

# docs figures not yet regenerated by this command and recorded ({figure name: the command that writes it}): a
# study's figures stay here until ``python -m experiments.docs --only NAME`` has drawn and recorded them.  Empty
# since 2026-12-08: every docs figure is recorded.
PENDING: dict[str, str] = {}


def model_fingerprint(golden: Path = GOLDEN) -> str:
    """A hash of the model's golden output hashes: it changes exactly when the model's outputs do (the golden
    test keeps tests/golden/outputs.json equal to today's outputs)."""
    return hashlib.sha256(golden.read_bytes()).hexdigest()[:16]


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
        record = {"artefact": artefact.path, "command": artefact.command(), "model_outputs": model_fingerprint(),
                  "runs": [{"overrides": list(o), "output_hash": output_hash(d)}
                           for o, d in zip(artefact.runs, dirs, strict=True)],
                  "figure_sha256": hashlib.sha256((ROOT / artefact.path).read_bytes()).hexdigest()}
    write_atomic(artefact.record, record)
    return record


class StudyError(RuntimeError):
    """A study command failed or did not write a figure it should have: nothing was copied or recorded."""


def record_path(figure: str | Path) -> Path:
    """Where the record of a figure lives: beside it, ``<figure>.json``."""
    return (ROOT / figure).with_suffix(".json")


def recorded_paths(artefact: Artefact | Study) -> list[str]:
    """The figures of an artefact that are recorded (a study's figures still in :data:`PENDING` are not yet)."""
    paths = artefact.paths if isinstance(artefact, Study) else [artefact.path]
    return [p for p in paths if Path(p).name not in PENDING]


RUNS_LINE = re.compile(r"\b\d[\d,]* runs\b|sweep finished: \d[\d,]* done")  # counts runs; run_many's last line
SUMMARY_KEYS = re.compile(r"minutes|wall|runs|seconds")


def reported(lines: list[str], out: Path) -> dict:
    """What a study says about its size and time: its output lines that count runs, and the wall-time and run
    entries of its ``summary.json`` if it writes one."""
    found: dict = {"runs_lines": [line.strip() for line in lines if RUNS_LINE.search(line)]}
    summary = out / "summary.json"
    if summary.is_file():
        data = json.loads(summary.read_text(encoding="utf-8"))
        found["summary"] = {k: v for k, v in data.items()
                            if SUMMARY_KEYS.search(k) and isinstance(v, int | float | str)}
    return found


def _content(path: Path) -> list[str] | None:
    """A file's lines without its comment lines (``#``: the date and command a config is written with)."""
    if not path.is_file():
        return None
    return [line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")]


def run_study(study: Study, folder: Path) -> tuple[dict[str, Path], dict]:
    """Run a study's steps (subprocesses with this Python, the repository first on the path, output folder
    ``folder/out``) and keep each figure as it is when its step ends; returns {repository path: kept file} and
    what was measured and reported."""
    out, kept = folder / "out", folder / "kept"
    out.mkdir(parents=True)
    kept.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
    lines: list[str] = []
    files: dict[str, Path] = {}
    start = time.perf_counter()
    for step in study.steps:
        argv = [a.replace("{out}", str(out)) for a in step.args]
        print(f"$ {step.command(study.module)}   (output in {out})", flush=True)
        with subprocess.Popen([sys.executable, "-m", study.module, *argv], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1) as proc:
            for line in proc.stdout:
                print(line, end="", flush=True)
                lines.append(line)
        if proc.returncode:
            raise StudyError(f"{step.command(study.module)} failed (exit {proc.returncode}); nothing copied")
        for produced, shipped in step.matches:
            if _content(out / produced) != _content(ROOT / shipped):
                raise StudyError(f"{step.command(study.module)} no longer gives the shipped {shipped} (its "
                                 f"{produced} differs; --keep DIR keeps it to compare); nothing copied. An input of "
                                 "the model has moved: write it on purpose with the study's own command, update "
                                 "the golden hashes and regenerate every docs artefact")
        for produced, dest in step.figures:
            if not (out / produced).is_file():
                raise StudyError(f"{step.command(study.module)} wrote no {produced} in its output folder")
            files[dest] = kept / f"{len(files)}_{Path(dest).name}"
            shutil.copyfile(out / produced, files[dest])
    return files, {"wall_time_s": round(time.perf_counter() - start, 1), **reported(lines, out)}


def generate_study(study: Study, keep: Path | None = None) -> list[dict]:
    """Run one study, copy its figures into the docs and write a record beside each; returns the records.  Nothing
    is copied unless every step succeeded.  The study's output folder is temporary unless ``keep`` names a folder
    to keep it in (``keep/<name>``, which must not exist yet: its tables and report are what the docs quote)."""
    if keep is not None and (keep / study.name).exists():
        raise StudyError(f"--keep {keep}: {keep / study.name} exists already; choose another folder")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) if keep is None else keep / study.name
        files, measured = run_study(study, folder)
        records = []
        commands = [step.command(study.module) for step in study.steps]
        for dest, source in files.items():
            target = ROOT / dest
            write_atomic(target, source.read_bytes())
            steps = next(i for i, step in enumerate(study.steps) if dest in dict(map(reversed, step.figures)))
            record = {"artefact": dest, "command": study.command(), "study": commands[:steps + 1],
                      "model_outputs": model_fingerprint(), **measured,
                      "figure_sha256": hashlib.sha256(target.read_bytes()).hexdigest()}
            write_atomic(record_path(dest), record)
            records.append(record)
    return records


def check_recorded(artefact: Artefact | Study, fingerprint: str | None = None) -> list[str]:
    """The cheap check (nothing runs): what is stale about one artefact's recorded figures (empty: current) — a
    missing file or record, a record of an older model (its fingerprint is not today's), a file changed since it
    was recorded.  A study's figures are checked exactly like a run artefact's."""
    now = fingerprint or model_fingerprint()
    problems = []
    for path in recorded_paths(artefact):
        record_file = record_path(path)
        if not (ROOT / path).is_file():
            problems.append(f"{path} is missing")
            continue
        if not record_file.is_file():
            problems.append(f"{path} has no record of the model output it shows ({record_file.name})")
            continue
        record = json.loads(record_file.read_text(encoding="utf-8"))
        if hashlib.sha256((ROOT / path).read_bytes()).hexdigest() != record.get("figure_sha256"):
            problems.append(f"{path} was changed after it was recorded")
        if record.get("model_outputs") != now:
            problems.append(f"{path} is older than the model: drawn from model outputs "
                            f"{record.get('model_outputs')}, the model now gives {now} (tests/golden/outputs.json)")
    return problems


def check(artefact: Artefact) -> list[str]:
    """What is stale about one artefact (empty: current), running its runs again: :func:`check_recorded`, and a
    run whose output no longer has the recorded hash."""
    problems = check_recorded(artefact)
    if not artefact.record.is_file():
        return problems
    record = json.loads(artefact.record.read_text(encoding="utf-8"))
    problems = [p for p in problems if "is older than the model" not in p]  # the runs below say it per run
    recorded = {tuple(r["overrides"]): r["output_hash"] for r in record.get("runs", [])}
    with tempfile.TemporaryDirectory() as tmp:
        for overrides, run_dir in zip(artefact.runs, run_all(artefact, Path(tmp)), strict=True):
            now = output_hash(run_dir)
            if recorded.get(tuple(overrides)) != now:
                problems.append(f"{artefact.path} is older than the model: the run {' '.join(overrides)} now "
                                f"gives output {now}, the figure shows {recorded.get(tuple(overrides))}")
    return problems


def unaccounted(folder: Path = FIGURES) -> list[str]:
    """Figures in docs/figures that are neither recorded by this command nor listed in :data:`PENDING`."""
    known = {Path(p).name for a in ALL.values() for p in recorded_paths(a)} | set(PENDING)
    return sorted(p.name for p in folder.glob("*.png") if p.name not in known)


ALL: dict[str, Artefact | Study] = {**ARTEFACTS, **STUDIES}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.docs", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare each record with today's model fingerprint; "
                                                         "exit 1 if any artefact is stale (runs and draws nothing)")
    ap.add_argument("--rerun", action="store_true", help="with --check: run the run artefacts' runs again and "
                                                         "compare each run's output hash (studies: the cheap check)")
    ap.add_argument("--only", metavar="NAME", help=f"one artefact: {', '.join(ALL)}")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="keep each study's output folder in DIR/<name> "
                                                             "(default: a temporary folder, removed)")
    args = ap.parse_args(argv)
    if args.only is not None and args.only not in ALL:
        print(f"error: --only {args.only}: allowed: {', '.join(ALL)}", file=sys.stderr)
        return 2
    chosen = [ALL[args.only]] if args.only else list(ALL.values())
    if args.check:
        if args.rerun and args.only and isinstance(chosen[0], Study):
            print(f"error: --check --rerun: {args.only} is a study (it runs for minutes): regenerate it with "
                  f"python -m experiments.docs --only {args.only}", file=sys.stderr)
            return 2
        found = [(p, f"python -m experiments.docs --only {a.name}") for a in chosen
                 for p in (check(a) if args.rerun and isinstance(a, Artefact) else check_recorded(a))]
        found += [(f"docs/figures/{name} is neither an artefact of python -m experiments.docs nor in its PENDING "
                   "list", "python -m experiments.docs after adding it to ARTEFACTS or STUDIES")
                  for name in unaccounted()]
        for p, fix in found:
            print(f"stale: {p}; regenerate with {fix}", file=sys.stderr)
        stale = [p for p, _ in found]
        figures = [p for a in chosen for p in recorded_paths(a)]
        print(f"{len(figures) - len({s.split(' ')[0] for s in stale} & set(figures))} of {len(figures)} recorded "
              f"figures current; {len(PENDING)} docs figures not yet regenerated by this command (PENDING)")
        return 1 if stale else 0
    for a in chosen:
        if isinstance(a, Study):
            try:
                records = generate_study(a, args.keep)
            except StudyError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            for r in records:
                print(f"wrote {r['artefact']} and {record_path(r['artefact']).relative_to(ROOT)} "
                      f"({r['wall_time_s']} s; {'; '.join(r['runs_lines']) or 'no run count reported'})")
            continue
        record = generate(a)
        print(f"wrote {a.path} and {a.record.relative_to(ROOT)} ({len(record['runs'])} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
