"""The fault and bad-input campaign of issue 29, on demand (not in CI): ``nice -n 10 python -m benchmarks.campaign``.

Three parts, each printed as a table and, with ``--results``, written into ``benchmarks/results.md`` (section "Fault
and bad-input campaign (issue 29)", with the date and the command):

* **Bad inputs, in both modes.**  The generated table of tests/test_bad_input.py (every parameter misspelt, out of
  range, of the wrong type, too large, null, a broken interpolation; bad options of every config group; the input
  holes of issue 29), each case also given beside another, valid key (``community=relocation``, ``policy=micro_fund``,
  ``lang=en``, ...), so that each mode has over 4,000 cases: as a single run, and as a sweep (``-m``, with a second
  swept key).  All cases go through :func:`sim.runs.cli.main`, the function behind ``python -m sim``, in one process
  (tests/test_bad_input.py's driver: one Python start-up, not 8,000); a random sample of each mode also runs through
  the real command (``python -m sim ...`` in a subprocess of its own), and its outcome is compared with the in-process
  one.  Each case is classed: refused cleanly (the expected exit, one line naming the key, no traceback, nothing left
  on disk), refused with another message, a traceback, accepted (exit 0), another exit, files left behind.
* **Kills (SIGKILL).**  A sweep's launcher workers (loky), its job processes, its keepers (the process that keeps a
  job's run going when its worker dies), a ``run_many`` study's own process, a sweep's main process.  Runs started
  are counted by watching the job processes (/proc, every 20 ms; each holds its job folder open), so a run started
  twice is seen.
* **Damage.**  22 kinds of damage to the run folders of a finished sweep (one job each) and 6 to the sweep folder
  itself; for each: does ``python -m sim.runs.collate --verify`` flag it, does plain collate refuse it, and does the
  sweep run again redo it byte-identical.

Options: ``--quick`` (a few cases of each part, to try the script), ``--sample N`` (real-command cases per mode,
default 30), ``--parts bad,kills,damage``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TESTS = ROOT / "tests"
SECTION = "## Fault and bad-input campaign (issue 29)"
CONTEXTS = ("community=relocation", "policy=micro_fund", "behaviour=default", "lang=en", "seed=7", "steps=30")
SHORT = ["community=relocation", "warmup_weeks=0"]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def _tb():
    sys.path.insert(0, str(TESTS))
    import test_bad_input

    return test_bad_input


# ------------------------------------------------------------------------------------------------
# bad inputs
# ------------------------------------------------------------------------------------------------
def _keys(argv: list[str]) -> set[str]:
    return {a.partition("=")[0].lstrip("+~").split("@")[0] for a in argv if not a.startswith("-")}


def _with_context(case, k: int):
    """The case given beside a valid key it does not touch (the ``k``-th that fits), or None."""
    keys = _keys(case.argv)
    text = " ".join(case.argv)
    fitting = []
    for extra in CONTEXTS:
        key = extra.partition("=")[0]
        related = any(k2 == key or k2.startswith(key + ".") or key.startswith(k2 + ".") for k2 in keys)
        if related or "${" in text or (key in ("community", "policy", "behaviour") and "district" in text):
            continue
        fitting.append(extra)
    if not fitting:
        return None
    extra = fitting[k % len(fitting)]
    return dataclasses.replace(case, id=f"{case.id} [+{extra}]", argv=[*case.argv, extra])


def bad_input_cases(quick: bool) -> tuple[list, list]:
    """(single-run cases, sweep cases): the generated table, each case also beside a valid key, and as sweeps."""
    tb = _tb()
    base = tb.generate_cases()
    if quick:
        base = base[::40]
    variants = [v for i, c in enumerate(base) if not (c.setup or c.fault) and (v := _with_context(c, i)) is not None]
    cases = base + variants
    single = [c for c in cases if "-m" not in c.argv]
    sweep = [c for c in cases if "-m" in c.argv] + [s for c in single if (s := tb._as_sweep(c)) is not None]
    return single, sweep


def _drive(cases: list, work: Path) -> dict:
    """Run the cases through sim.runs.cli.main in one process (tests/test_bad_input.py's driver); results by id."""
    work.mkdir(parents=True, exist_ok=True)
    spec = work / "cases.json"
    spec.write_text(json.dumps([dataclasses.asdict(c) for c in cases]), encoding="utf-8")
    cwd = work / "work"
    cwd.mkdir()
    proc = subprocess.run([sys.executable, str(TESTS / "test_bad_input.py"), str(spec)], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=7200)
    if proc.returncode != 0:
        raise RuntimeError(f"the driver failed: {proc.stderr[-2000:]}")
    return {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}


def classify(case, code, stderr: str, new: list) -> str:
    lines = stderr.strip().splitlines()
    if "Traceback" in stderr or code in ("exception", 1):
        return "traceback"
    if code == 0:
        return "accepted (exit 0)"
    if code != case.code:
        return f"other exit ({code})"
    if new:
        return "refused, files left behind"
    if len(lines) == 1 and case.named in lines[0] and case.says in lines[0]:
        return "refused cleanly, naming the key"
    return "refused, message without the key"


def _real_command(case, work: Path) -> str:
    """The case through ``python -m sim`` in a fresh folder: its class."""
    cwd = work / "cwd"
    shutil.rmtree(work, ignore_errors=True)
    (work / "outside").mkdir(parents=True)
    cwd.mkdir()
    argv = [a.replace("ABS/", f"{work}/") for a in case.argv]
    proc = subprocess.run([sys.executable, "-m", "sim", *argv], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=600)
    new = [str(p) for p in cwd.rglob("*")] + [str(p) for p in (work / "outside").rglob("*")]
    return classify(case, proc.returncode, proc.stderr, new)


def bad_inputs(quick: bool, sample: int, scratch: Path) -> dict:
    single, sweep = bad_input_cases(quick)
    out = {}
    rng = random.Random(29)
    for mode, cases in (("single run", single), ("sweep (-m)", sweep)):
        tic = time.perf_counter()
        results = _drive(cases, scratch / mode.split()[0])
        seconds = time.perf_counter() - tic
        classes = {c.id: classify(c, results[c.id]["code"], results[c.id]["stderr"], results[c.id]["new"])
                   for c in cases}
        bad = [(c.id, c.argv, classes[c.id], results[c.id]["stderr"].strip()[:200]) for c in cases
               if classes[c.id] != "refused cleanly, naming the key"]
        picked = rng.sample([c for c in cases if not (c.setup or c.fault)], min(sample, len(cases)))
        agree = 0
        tic2 = time.perf_counter()
        for c in picked:
            real = _real_command(c, scratch / "real")
            agree += real == classes[c.id]
            if real != classes[c.id]:
                bad.append((c.id, c.argv, f"real command: {real} (in process: {classes[c.id]})", ""))
        out[mode] = {"cases": len(cases), "classes": Counter(classes.values()), "seconds": round(seconds, 1),
                     "sample": len(picked), "agree": agree, "sample_seconds": round(time.perf_counter() - tic2, 1),
                     "problems": bad[:30], "problem_count": len(bad)}
        print(mode, out[mode]["cases"], dict(out[mode]["classes"]), f"{seconds:.0f} s;",
              f"real command agrees {agree}/{len(picked)}", flush=True)
    return out


# ------------------------------------------------------------------------------------------------
# kills
# ------------------------------------------------------------------------------------------------
def _procs() -> dict[int, tuple[int, bytes]]:
    """Every process: pid → (parent pid, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                found[int(entry.name)] = (ppid, (entry / "cmdline").read_bytes())
            except (OSError, ValueError, IndexError):
                continue
    return found


def _sweep_processes(main: int) -> dict[str, list[int]]:
    """The launcher's workers (children of ``main`` running loky), keepers (loky copies handed to init) and job
    processes (loky copies whose parent is one too) of the sweep whose main process is ``main``."""
    procs = _procs()
    loky = {pid for pid, (_, cmd) in procs.items() if b"popen_loky" in cmd}
    workers = [p for p in loky if procs[p][0] == main]
    keepers = [p for p in loky if procs[p][0] == 1]
    # a job process's parent is a keeper (not the short-lived process between a worker and its keeper, nor a keeper
    # before that one has left)
    jobs = [p for p in loky if procs[p][0] in keepers]
    return {"workers": workers, "keepers": keepers, "jobs": jobs}


def _job_of(pid: int, sweep_dir: Path) -> str | None:
    """The job folder a job process holds open (the lock on its folder), if any."""
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = Path(os.readlink(fd))
            if target.parent == sweep_dir.resolve():
                return target.name
    except OSError:
        return None
    return None


@dataclasses.dataclass
class Watch:
    """Runs started by a sweep: job process ids seen per job folder."""

    sweep_dir: Path
    runs: dict = dataclasses.field(default_factory=dict)

    def look(self, jobs: list[int]) -> None:
        for pid in jobs:
            name = _job_of(pid, self.sweep_dir)
            if name is not None:
                self.runs.setdefault(name, set()).add(pid)

    def started_twice(self) -> int:
        return sum(len(pids) - 1 for pids in self.runs.values() if len(pids) > 1)


def _sweep(cwd: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim", "-m", *args], cwd=cwd, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _summary(out: str) -> str:
    return next((line for line in out.splitlines() if line.startswith("sweep finished")), "(no summary)")


def _kill_during(proc: subprocess.Popen, watch: Watch, target: str, kills: int, gap_s: float) -> int:
    """SIGKILL ``kills`` processes of kind ``target`` of the running sweep, one every ``gap_s`` s while it has a run
    in progress; watch the runs meanwhile.  Returns the kills made."""
    made, last = 0, 0.0
    while proc.poll() is None:
        found = _sweep_processes(proc.pid)
        for kind in ("keepers", "jobs"):  # this sweep's only (other sweeps may run on the machine)
            found[kind] = [p for p in found[kind] if _job_of(p, watch.sweep_dir) is not None]
        watch.look(found["jobs"])
        now = time.monotonic()
        if made < kills and found["jobs"] and found[target] and now - last > gap_s:
            os.kill(sorted(found[target])[0], signal.SIGKILL)
            made, last = made + 1, now
        time.sleep(0.02)
    return made


def _verify(sweep_dir: Path) -> list:
    from sim.runs.collate import verify

    return verify(sweep_dir)


def kills(quick: bool, scratch: Path) -> list[dict]:
    rows = []
    base = [*SHORT, "steps=260", "hydra.launcher.n_jobs=2", "hydra.sweeper.relaunch_on_worker_death=8"]
    plan = [("workers", 4, 10), ("workers", 4, 10), ("workers", 2, 10), ("jobs", 5, 12), ("jobs", 5, 12),
            ("keepers", 5, 12)]
    if quick:
        plan = [("workers", 1, 4), ("jobs", 1, 4), ("keepers", 1, 4)]
    for i, (target, n, jobs) in enumerate(plan):
        cwd = scratch / f"kill{i}"
        cwd.mkdir(parents=True)
        args = [*base, f"seed=range(0,{jobs})", "hydra.sweep.dir=sw"]
        watch = Watch(cwd / "sw")
        proc = _sweep(cwd, *args)
        made = _kill_during(proc, watch, target, n, 2.5)
        out = proc.stdout.read()
        proc.wait()
        row = {"what": f"launcher {target}" if target == "workers" else f"sweep {target.rstrip('s')} processes",
               "kills": made, "exit": proc.returncode, "summary": _summary(out), "traceback": "Traceback" in out,
               "runs_started_twice": watch.started_twice(), "verify_flags": len(_verify(cwd / "sw")),
               "outlived": out.count("its run outlived the dead worker")}
        if proc.returncode != 0:  # run the same sweep again: the failed jobs are redone, the rest skipped
            again = subprocess.run([sys.executable, "-m", "sim", "-m", *args], cwd=cwd, env=_env(),
                                   capture_output=True, text=True, timeout=1200)
            row.update(rerun_exit=again.returncode, rerun_summary=_summary(again.stdout),
                       rerun_verify_flags=len(_verify(cwd / "sw")))
        rows.append(row)
        print(row, flush=True)
    rows += _main_kills(1 if quick else 3, scratch)
    rows += _study_kills(1 if quick else 5, scratch)
    return rows


def _main_kills(n: int, scratch: Path) -> list[dict]:
    """SIGKILL a sweep's main process: nothing of it may go on (workers, keepers, job processes); a re-run finishes."""
    rows = []
    for i in range(n):
        cwd = scratch / f"main{i}"
        cwd.mkdir(parents=True)
        args = [*SHORT, "steps=260", "hydra.launcher.n_jobs=2", "seed=range(0,6)", "hydra.sweep.dir=sw"]
        proc = _sweep(cwd, *args)
        while proc.poll() is None and not _sweep_processes(proc.pid)["jobs"]:
            time.sleep(0.02)
        time.sleep(0.5)
        mine = {p for kind in _sweep_processes(proc.pid).values() for p in kind}
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and mine & set(_procs()):
            time.sleep(0.1)
        left = len(mine & set(_procs()))
        flagged = len(_verify(cwd / "sw"))
        again = subprocess.run([sys.executable, "-m", "sim", "-m", *args], cwd=cwd, env=_env(), capture_output=True,
                               text=True, timeout=1200)
        rows.append({"what": "sweep main process", "kills": 1, "exit": proc.returncode, "left_running_after_10s": left,
                     "verify_flags": flagged, "rerun_exit": again.returncode, "rerun_summary": _summary(again.stdout),
                     "rerun_verify_flags": len(_verify(cwd / "sw"))})
        print(rows[-1], flush=True)
    return rows


STUDY = """
import sys
from sim.runs.runner import run_many
from sim.settings.config import settings_for
s = [settings_for("community=relocation", "warmup_weeks=0", "steps=260", f"seed={i}", "progress=false")
     for i in range(8)]
run_many(s, sys.argv[1], n_jobs=2, overrides=[[f"seed={i}"] for i in range(8)], progress=False)
"""


def _study_kills(n: int, scratch: Path) -> list[dict]:
    """SIGKILL a run_many study's own process after two runs: --verify must not say complete; a re-run finishes."""
    rows = []
    for i in range(n):
        folder = scratch / f"study{i}"
        proc = subprocess.Popen([sys.executable, "-c", STUDY, str(folder)], env=_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        while proc.poll() is None and len(list(folder.glob("*/manifest.json"))) < 2:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(1.0)
        flagged = _verify(folder)
        again = subprocess.run([sys.executable, "-c", STUDY, str(folder)], env=_env(), capture_output=True, text=True,
                               timeout=1200)
        rows.append({"what": "run_many study process", "kills": 1, "verify_flags": len(flagged),
                     "done_at_kill": 8 - len(flagged), "rerun_exit": again.returncode,
                     "rerun_verify_flags": len(_verify(folder))})
        print(rows[-1], flush=True)
    return rows


# ------------------------------------------------------------------------------------------------
# damage
# ------------------------------------------------------------------------------------------------
def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


JOB_DAMAGE = {  # kind → (what it does to one job folder, expected: flagged by --verify)
    "manifest deleted": lambda j, o: (j / "manifest.json").unlink(),
    "manifest truncated": lambda j, o: (j / "manifest.json").write_bytes((j / "manifest.json").read_bytes()[:50]),
    "manifest {}": lambda j, o: (j / "manifest.json").write_text("{}"),
    "manifest binary garbage": lambda j, o: (j / "manifest.json").write_bytes(os.urandom(64)),
    "manifest config hash altered": lambda j, o: _edit_json(j / "manifest.json",
                                                            lambda m: m.update(config_hash="0" * 64)),
    "manifest config edited": lambda j, o: _edit_json(j / "manifest.json",
                                                      lambda m: m["config"].update(steps=m["config"]["steps"] + 1)),
    "manifest old-style (no output records)": lambda j, o: _edit_json(j / "manifest.json", lambda m: m.pop("outputs")),
    "timeseries truncated": lambda j, o: (j / "timeseries.parquet").write_bytes(
        (j / "timeseries.parquet").read_bytes()[:100]),
    "timeseries deleted": lambda j, o: (j / "timeseries.parquet").unlink(),
    "timeseries one byte flipped": lambda j, o: _flip(j / "timeseries.parquet"),
    "timeseries emptied": lambda j, o: (j / "timeseries.parquet").write_bytes(b""),
    "timeseries of another run": lambda j, o: shutil.copyfile(o / "timeseries.parquet", j / "timeseries.parquet"),
    "kpis value altered": lambda j, o: (j / "kpis.json").write_text(
        (j / "kpis.json").read_text().replace("0.", "1.", 1)),
    "kpis deleted": lambda j, o: (j / "kpis.json").unlink(),
    "kpis emptied": lambda j, o: (j / "kpis.json").write_bytes(b""),
    "status unreadable": lambda j, o: (j / "status.json").write_bytes(b"\x00\xff{"),
    "status says failed": lambda j, o: _edit_json(j / "status.json", lambda s: s.update(status="failed", error="x")),
    "manifest and status deleted": lambda j, o: [(j / n).unlink() for n in ("manifest.json", "status.json")],
    "job folder deleted": lambda j, o: shutil.rmtree(j),
    "job folder emptied": lambda j, o: [p.unlink() for p in j.iterdir()],
    "manifest of another run": lambda j, o: shutil.copyfile(o / "manifest.json", j / "manifest.json"),
    "whole folder of another run": lambda j, o: (shutil.rmtree(j), shutil.copytree(o, j)),
}
BENIGN = {  # damage that leaves the runs intact: must not be flagged
    "stale temporary file": lambda j, o: (j / ".timeseries.parquet.999.tmp").write_bytes(b"half"),
}
FOLDER_DAMAGE = {  # kind → what it does to the sweep folder
    "sweep.json deleted": lambda sw: (sw / "sweep.json").unlink(),
    "sweep.json truncated": lambda sw: (sw / "sweep.json").write_bytes((sw / "sweep.json").read_bytes()[:40]),
    "sweep.json lists a run never made": lambda sw: _edit_json(sw / "sweep.json",
                                                               lambda p: p["runs"].update({"seed=999": None})),
    "runs.parquet truncated": lambda sw: (sw / "runs.parquet").write_bytes((sw / "runs.parquet").read_bytes()[:200]),
    "a run folder copied": lambda sw: shutil.copytree(sorted(p for p in sw.iterdir() if p.is_dir())[0],
                                                      sw / "copied-run"),
    "a stray run folder": lambda sw: shutil.copytree(next(p for p in (sw.parent / "stray").iterdir() if p.is_dir()),
                                                     sw / "seed=77"),
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def damage(quick: bool, scratch: Path) -> dict:
    from sim.runs.collate import CollateError, collate

    kinds = dict(list(JOB_DAMAGE.items())[:3]) if quick else JOB_DAMAGE
    jobs = len(kinds) + len(BENIGN) + 2
    cwd = scratch / "damage"
    cwd.mkdir(parents=True)
    args = [*SHORT, "steps=20", "hydra.launcher.n_jobs=2", f"seed=range(0,{jobs})"]
    made = subprocess.run([sys.executable, "-m", "sim", "-m", *args, "hydra.sweep.dir=base"], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=1800)
    assert made.returncode == 0, made.stdout[-2000:]
    subprocess.run([sys.executable, "-m", "sim", "-m", *SHORT, "steps=20", "seed=77", "hydra.sweep.dir=stray"],
                   cwd=cwd, env=_env(), capture_output=True, text=True, timeout=600, check=True)
    base = cwd / "base"
    names = sorted(p.name for p in base.iterdir() if p.is_dir())
    pristine = {n: _digest(base / n / "timeseries.parquet") for n in names}
    shutil.copytree(base, cwd / "sw")
    sw = cwd / "sw"
    damaged = {}
    other = base / names[-1]
    for (kind, act), name in zip([*kinds.items(), *BENIGN.items()], names, strict=False):
        act(sw / name, other)
        damaged[name] = kind
    flagged = dict(_verify(sw))
    try:
        collate(sw)
        refused: str | None = None
    except CollateError as exc:
        refused = str(exc)
    rerun = subprocess.run([sys.executable, "-m", "sim", "-m", *args, "hydra.sweep.dir=sw"], cwd=cwd, env=_env(),
                           capture_output=True, text=True, timeout=1800)
    rows = []
    for name, kind in damaged.items():
        identical = (sw / name / "timeseries.parquet").is_file() and \
            _digest(sw / name / "timeseries.parquet") == pristine[name]
        rows.append({"kind": kind, "benign": kind in BENIGN, "flagged": name in flagged,
                     "reason": flagged.get(name, "")[:90],
                     "plain_collate_refuses": refused is not None, "named": refused is not None and name in refused,
                     "redone_identical": identical})
    folder_rows = []
    for kind, act in FOLDER_DAMAGE.items():
        copy = cwd / f"f-{len(folder_rows)}"
        shutil.copytree(base, copy)
        act(copy)
        found = _verify(copy)
        try:
            collate(copy, write=False)
            plain = "accepted (the runs are intact; collate writes the tables anew)"
        except (CollateError, OSError) as exc:
            plain = f"refused: {str(exc)[:80]}"
        folder_rows.append({"kind": kind, "flagged": bool(found), "reason": (found[0][1] if found else "")[:90],
                            "plain_collate": plain})
    left = _verify(sw)
    result = {"jobs": rows, "folder": folder_rows, "rerun_exit": rerun.returncode,
              "rerun_summary": _summary(rerun.stdout), "rerun_verify_flags": len(left),
              "rerun_verify": [f"{n}: {why}" for n, why in left][:5],
              "rerun_tail": rerun.stdout.strip().splitlines()[-3:],
              "plain_collate_refused_first": (refused or "")[:200]}
    print(json.dumps(result, indent=1, ensure_ascii=False), flush=True)
    return result


# ------------------------------------------------------------------------------------------------
# the report
# ------------------------------------------------------------------------------------------------
def report(results: dict, command: str) -> str:
    lines = [SECTION, "", f"Run on {time.strftime('%Y-%m-%d')} with `{command}` (niced, on this 2-core machine "
             "shared with other work); the script is run on demand, not in CI.", ""]
    bad = results.get("bad")
    if bad:
        classes = sorted({c for m in bad.values() for c in m["classes"]})
        lines += ["Bad inputs (tests/test_bad_input.py's generated table, each case also beside a valid key; every "
                  "case through `sim.runs.cli.main` in one process, a random sample also through the real "
                  "`python -m sim` in a subprocess of its own):", "",
                  "| outcome | " + " | ".join(bad) + " |", "|---|" + "---:|" * len(bad)]
        lines += [f"| {c} | " + " | ".join(f"{m['classes'].get(c, 0):,}" for m in bad.values()) + " |"
                  for c in classes]
        lines += ["| **cases** | " + " | ".join(f"**{m['cases']:,}**" for m in bad.values()) + " |",
                  "| real command agrees with the in-process outcome | " + " | ".join(
                      f"{m['agree']}/{m['sample']}" for m in bad.values()) + " |",
                  "| seconds (in process; real-command sample) | " + " | ".join(
                      f"{m['seconds']:.0f}; {m['sample_seconds']:.0f}" for m in bad.values()) + " |", ""]
        for mode, m in bad.items():
            if m["problems"]:
                lines.append(f"{mode}: {m['problem_count']} case(s) not refused cleanly, e.g.:")
                lines += [f"- `{' '.join(argv)}`: {what}" + (f" ({err})" if err else "")
                          for _, argv, what, err in m["problems"][:8]]
                lines.append("")
    if results.get("kills"):
        lines += ["Kills (SIGKILL; runs started counted by watching the job processes every 20 ms):", "",
                  "| killed | kills | exit | summary | runs started twice | --verify flags | re-run |",
                  "|---|---:|---:|---|---:|---:|---|"]
        for r in results["kills"]:
            rerun = (f"exit {r['rerun_exit']}, {r.get('rerun_summary', 'study returned')}, --verify flags "
                     f"{r['rerun_verify_flags']}") if "rerun_exit" in r else "not needed"
            extra = (f"; {r['left_running_after_10s']} of its processes left after 10 s"
                     if "left_running_after_10s" in r else "")
            extra += (f"; {r['outlived']} progress lines 'its run outlived the dead worker'"
                      if r.get("outlived") else "")
            extra += "; traceback" if r.get("traceback") else ""
            lines.append(f"| {r['what']} | {r['kills']} | {r.get('exit', '–')} | {r.get('summary', '–')}{extra} | "
                         f"{r.get('runs_started_twice', '–')} | {r['verify_flags']} | {rerun} |")
        lines += [f"Total kills: {sum(r['kills'] for r in results['kills'])}.", ""]
    dmg = results.get("damage")
    if dmg:
        lines += ["Damage to a finished sweep's run folders (one job each), then `--verify`, plain collate, and the "
                  "same sweep run again:", "",
                  "| damage | flagged by --verify (reason) | plain collate refuses (its message names the run) | "
                  "after the re-run: complete, timeseries byte-identical to the first run's |", "|---|---|---|---|"]
        for r in dmg["jobs"]:
            want = "(benign: must not be flagged) " if r["benign"] else ""
            lines.append(f"| {r['kind']} | {want}{'yes' if r['flagged'] else 'no'}"
                         f"{' (' + r['reason'] + ')' if r['reason'] else ''} | "
                         + ("– (not a bad run) | " if r["benign"] else
                            f"{'yes' if r['plain_collate_refuses'] else 'no'}"
                            f"{' (named)' if r.get('named') else ' (beyond the runs its message lists)'} | ")
                         + f"{'yes' if r['redone_identical'] else 'no'} |")
        left = f": {'; '.join(dmg['rerun_verify'])}" if dmg.get("rerun_verify") else ""
        lines += ["", f"Re-run: exit {dmg['rerun_exit']}, {dmg['rerun_summary']}; `--verify` afterwards flags "
                  f"{dmg['rerun_verify_flags']}{left}.", "",
                  "| damage to the sweep folder | flagged by --verify (reason) | plain collate |", "|---|---|---|"]
        lines += [f"| {r['kind']} | {'yes' if r['flagged'] else 'no'} ({r['reason']}) | "
                  f"{re.sub(r'/tmp/[^ ]*/(f-[0-9])', r'<copy>', r['plain_collate'])} |" for r in dmg["folder"]]
        kinds = len(dmg["jobs"]) + len(dmg["folder"])
        lines += ["", f"Damage kinds: {kinds} ({len(dmg['jobs'])} to run folders, {len(dmg['folder'])} to the sweep "
                  "folder)."]
    return "\n".join(lines) + "\n"


def write_results(text: str) -> None:
    path = HERE / "results.md"
    current = path.read_text(encoding="utf-8")
    if SECTION in current:
        head, _, rest = current.partition(SECTION)
        nxt = rest.find("\n## ")
        current = head + text + (rest[nxt + 1:] if nxt >= 0 else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.write_text(current, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sample", type=int, default=30)
    parser.add_argument("--parts", default="bad,kills,damage")
    parser.add_argument("--results", action="store_true", help="write the tables into benchmarks/results.md")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    parts = args.parts.split(",")
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="campaign-") as tmp:
        scratch = Path(tmp)
        if "bad" in parts:
            results["bad"] = bad_inputs(args.quick, 2 if args.quick else args.sample, scratch / "bad")
        if "kills" in parts:
            results["kills"] = kills(args.quick, scratch / "kills")
        if "damage" in parts:
            results["damage"] = damage(args.quick, scratch / "damage")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=list, ensure_ascii=False), encoding="utf-8")
    command = "nice -n 10 python -m benchmarks.campaign " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(results, command.strip())
    print(text)
    if args.results:
        write_results(text)
    return 0


def from_json(path: Path, command: str) -> None:
    """Write the tables of an earlier run's ``--json`` file into benchmarks/results.md."""
    write_results(report(json.loads(path.read_text(encoding="utf-8")), command))


if __name__ == "__main__":
    sys.exit(main())
