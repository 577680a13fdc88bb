"""Sweeps that survive anything (issue #15): job deaths, limits, corrupt outputs, concurrent sweeps, exit codes,
and KPIs that a short run cannot measure."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import sim.runs.runner
from sim.model.indicators import not_measurable
from sim.runs.collate import CollateError, collate, verify
from sim.runs.isolation import run_isolated
from sim.runs.outputs import SweepBusy, lock_sweep, read_manifest, read_status
from sim.runs.runner import run, run_job, run_many
from sim.runs.sweep import EXIT_COLLATION_FAILED, EXIT_JOBS_FAILED, EXIT_NOT_STARTED
from sim.settings.config import settings_for, with_values

SMALL = ["community=relocation", "steps=13"]
# the indicators whose definition spans a year (rates and yearly shares): a shorter run cannot measure them
YEARLY_KPIS = ("response_rate", "completion_rate", "callback_satisfaction", "volunteer_active_share_2plus",
               "deliberation_satisfaction", "enterprise_participation", "social_orgs_serving")


def sweep_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "sim", "-m", *args]


def env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}


def _seeds(n: int, *extra: str):
    base = settings_for(*SMALL, *extra)
    return [with_values(base, {"seed": s}) for s in range(n)], [f"seed={s}" for s in range(n)]


# ------------------------------------------------------------------------------------------------
# isolation of any job death
# ------------------------------------------------------------------------------------------------
def test_isolated_call_reports_signal_exit_error_and_value():
    assert run_isolated(sum, ([1, 2],)).value == 3
    killed = run_isolated(lambda: os.kill(os.getpid(), signal.SIGKILL), ())
    assert killed.died and killed.details["signal"] == signal.SIGKILL and killed.details["cause"] == "signal"
    assert "SIGKILL" in killed.error and killed.details["peak_memory_mb"] > 0
    left = run_isolated(os._exit, (3,))
    assert left.died and (left.details["cause"], left.details["exit_code"]) == ("exit", 3)
    raised = run_isolated(int, ("x",))
    assert not raised.died and raised.error.startswith("ValueError") and "Traceback" in raised.details["traceback"]


def test_time_and_memory_limits_stop_a_job_and_are_recorded_as_its_cause():
    slow = run_isolated(time.sleep, (30,), timeout_s=0.3)
    assert slow.died and slow.details["cause"] == "time_limit" and slow.details["limit_s"] == 0.3
    big = run_isolated(lambda: bytearray(2 * 10**9), (), memory_gb=0.3)
    assert big.died and big.details["cause"] == "memory_limit" and "memory limit of 0.3 GB" in big.error


def _dying_run(settings, out_dir, progress, overrides, share_warmup=False):
    """`sim.runs.runner.run`, except that seed 1 is killed as the out-of-memory killer would and seed 2 leaves with
    os._exit, half-way through writing."""
    if settings.seed == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    if settings.seed == 2:
        (Path(out_dir) / ".timeseries.parquet.99.tmp").write_bytes(b"half")
        os._exit(3)
    return run(settings, out_dir, progress, overrides, share_warmup)


def test_run_many_records_killed_jobs_and_finishes_the_others(tmp_path, monkeypatch, capsys):
    settings, names = _seeds(4)
    monkeypatch.setattr(sim.runs.runner, "run", _dying_run)  # inherited by the forked job processes
    runs = run_many(settings, tmp_path, n_jobs=1, names=names).set_index("run_dir")
    out = capsys.readouterr().out
    assert "sweep finished: 2 done, 0 skipped, 2 failed" in out
    assert "failed: seed=1: JobDied: killed by SIGKILL (signal 9)" in out and "failed: seed=2: JobDied: exited" in out
    assert runs["status"].to_dict() == {"seed=0": "done", "seed=1": "failed", "seed=2": "failed", "seed=3": "done"}
    assert runs.loc["seed=1", "cause"] == "signal" and runs.loc["seed=2", "cause"] == "exit"
    killed, left = read_status(tmp_path / "seed=1"), read_status(tmp_path / "seed=2")
    assert (killed["cause"], killed["signal"], killed["signal_name"]) == ("signal", 9, "SIGKILL")
    assert killed["peak_memory_mb"] > 10
    assert (left["cause"], left["exit_code"]) == ("exit", 3)
    assert not list((tmp_path / "seed=2").glob(".*.tmp"))  # what the dead job left half-written is gone
    assert read_status(tmp_path / "seed=0")["peak_memory_mb"] > 10
    monkeypatch.undo()
    runs = run_many(settings, tmp_path, n_jobs=1, names=names, progress=False)  # re-run: the two are redone
    assert sorted(runs["status"]) == ["done", "done", "skipped", "skipped"]


def _holds_folder_in(pid: int, folder: Path) -> bool:
    """True if process ``pid`` has a folder of ``folder`` open (a sweep's job, and its keeper, hold their job's)."""
    try:
        return any(Path(os.readlink(fd)).parent == folder.resolve() for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def _child_pids(root: int, sweep_dir: Path | None = None) -> list[int]:
    """Running processes under ``root`` forked from a process under it (same command line as their parent):
    the sweep's jobs, each forked from its joblib worker; or, with ``sweep_dir``, from the keeper a worker started
    for it (handed to init: not under ``root``), which holds a job folder of ``sweep_dir`` open."""
    parent, cmdline = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
                if state != "Z":  # a job that has ended (not yet reaped) cannot be killed any more
                    parent[int(entry.name)] = int(ppid)
                    cmdline[int(entry.name)] = (entry / "cmdline").read_bytes()
            except (OSError, ValueError):
                continue

    def under(pid: int) -> bool:
        while pid > 1:
            pid = parent.get(pid, 0)
            if pid == root:
                return True
        return False

    def kept(pid: int) -> bool:
        return sweep_dir is not None and parent.get(parent[pid]) == 1 and _holds_folder_in(pid, sweep_dir)

    forked = [p for p in parent if cmdline.get(p) == cmdline.get(parent[p])]
    return [p for p in forked if (under(p) and parent[p] != root) or kept(p)]


def test_hydra_sweep_survives_a_sigkilled_job_and_exits_3(tmp_path):
    """The out-of-memory killer's SIGKILL on one job's process: recorded, the other jobs finish, collated, exit 3."""
    args = sweep_cmd("community=urban_traditional", "steps=520", "seed=range(0,4)", "hydra.launcher.n_jobs=2",
                     "hydra.sweep.dir=sw")
    proc = subprocess.Popen(args, cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    deadline = time.monotonic() + 240
    while victim is None and proc.poll() is None and time.monotonic() < deadline:
        # a process alive 0.2 s later: a job's runner, not the intermediate one that forks a keeper and leaves at
        # once (killing that one costs no job: seen in a fresh-clone CI run, all 4 jobs done, exit 0)
        seen = _child_pids(proc.pid, tmp_path / "sw")
        time.sleep(0.2)
        for pid in set(seen) & set(_child_pids(proc.pid, tmp_path / "sw")):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # it finished meanwhile: wait for the next job
                continue
            victim = pid
            break
        time.sleep(0.02)
    stdout, stderr = proc.communicate(timeout=300)
    assert victim is not None, stdout + stderr
    assert proc.returncode == EXIT_JOBS_FAILED, stdout + stderr
    assert "sweep finished: 3 done, 0 skipped, 1 failed" in stdout
    runs = pd.read_parquet(tmp_path / "sw" / "runs.parquet")
    failed = runs[runs["status"] == "failed"]
    assert len(runs) == 4 and len(failed) == 1
    # named in the summary, with what died: the job's process, or (the kill landed first on the keeper that runs it,
    # seen on a loaded machine) its keeper
    assert re.search(rf"failed: {re.escape(failed['run_dir'].iloc[0])}: JobDied: (killed by SIGKILL|the job's keeper "
                     r"process ended without reporting \(killed from outside\))", stdout), stdout
    status = read_status(tmp_path / "sw" / failed["run_dir"].iloc[0])
    assert status["signal"] == 9 and status["cause"] == "signal"


# ------------------------------------------------------------------------------------------------
# completion you can verify
# ------------------------------------------------------------------------------------------------
def test_truncated_or_altered_outputs_are_redone_and_named(tmp_path):
    settings, names = _seeds(3)
    run_many(settings, tmp_path, n_jobs=1, names=names, progress=False)
    manifest = read_manifest(tmp_path / "seed=0")
    assert set(manifest["outputs"]) == {"timeseries.parquet", "kpis.json"}
    assert all(len(r["sha256"]) == 64 and r["bytes"] > 0 for r in manifest["outputs"].values())
    truncated = tmp_path / "seed=0" / "timeseries.parquet"
    truncated.write_bytes(truncated.read_bytes()[:1000])
    altered = tmp_path / "seed=1" / "kpis.json"
    altered.write_text(altered.read_text().replace('">="', '"<="', 1))  # same size, other content
    assert verify(tmp_path) == [("seed=0", f"timeseries.parquet has 1000 bytes, the manifest recorded "
                                           f"{manifest['outputs']['timeseries.parquet']['bytes']}"),
                                ("seed=1", "kpis.json differs from the SHA-256 the manifest recorded")]
    with pytest.raises(CollateError, match=r"2 bad run\(s\) in .*: seed=0: timeseries.parquet has 1000 bytes"):
        collate(tmp_path)
    for module in ("sim.runs.collate", "experiments.collate"):
        proc = subprocess.run([sys.executable, "-m", module, "--verify", str(tmp_path)], capture_output=True,
                              text=True)
        assert proc.returncode == 1
        assert "2 bad run(s)" in proc.stderr and "seed=0: timeseries.parquet has 1000 bytes" in proc.stderr
        assert "seed=1: kpis.json differs" in proc.stderr
    runs = run_many(settings, tmp_path, n_jobs=1, names=names, progress=False)  # the re-run redoes both
    assert runs.set_index("run_dir")["status"].to_dict() == {"seed=0": "done", "seed=1": "done", "seed=2": "skipped"}
    proc = subprocess.run([sys.executable, "-m", "sim.runs.collate", "--verify", str(tmp_path)], capture_output=True,
                          text=True)
    assert proc.returncode == 0 and "all 3 runs" in proc.stdout


def test_verify_names_failed_and_missing_jobs(tmp_path):
    settings, names = _seeds(1)
    broken = with_values(settings[0], {"seed": 5})
    broken.community.households = broken.community.residents + 1
    run_many([settings[0], broken], tmp_path, n_jobs=1, names=[names[0], "broken"], progress=False)
    (tmp_path / "sweep.json").write_text(json.dumps({"jobs": 4}))
    bad = dict(verify(tmp_path))
    assert bad["broken"].startswith("failed: ConfigError: community.households=")
    assert bad["2 job(s)"] == "no run folder (never started)"
    assert names[0] not in bad


# ------------------------------------------------------------------------------------------------
# one sweep per folder
# ------------------------------------------------------------------------------------------------
def _wait_for(path: Path, text: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        assert proc.poll() is None, path.read_text()
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in {path}")


def test_two_concurrent_sweeps_into_one_folder_do_every_job_exactly_once(tmp_path):
    sw = tmp_path / "sw"
    held = lock_sweep(sw)  # both sweeps start while the folder is busy, so they certainly overlap
    args = sweep_cmd(*SMALL, "seed=range(0,4)", "hydra.launcher.n_jobs=1", "hydra.sweep.dir=sw")
    procs, logs = [], []
    for k in range(2):
        log = tmp_path / f"err{k}.txt"
        with open(tmp_path / f"out{k}.txt", "w") as out, open(log, "w") as err:
            procs.append(subprocess.Popen(args, cwd=tmp_path, env=env(), stdout=out, stderr=err, text=True))
        logs.append(log)
    for proc, log in zip(procs, logs, strict=True):
        _wait_for(log, f"another sweep is writing into {Path('sw')}; waiting for it to finish", proc)
    refused = subprocess.run([*args, "sweep.wait=false"], cwd=tmp_path, env=env(), capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode == EXIT_NOT_STARTED
    assert "error: another sweep is writing into sw; not started (not asked to wait: sweep.wait=false)" \
        in refused.stderr
    assert "Traceback" not in refused.stderr
    (sw / "stale").mkdir()
    (sw / "stale" / ".timeseries.parquet.12345.tmp").write_bytes(b"x")  # left by a killed run
    assert (sw / "stale" / ".timeseries.parquet.12345.tmp").exists()  # the waiting sweeps did not touch it
    held.release()
    outs = []
    for k, proc in enumerate(procs):
        assert proc.wait(timeout=300) == 0, (tmp_path / f"err{k}.txt").read_text()
        outs.append((tmp_path / f"out{k}.txt").read_text())
    summaries = sorted(line for out in outs for line in out.splitlines() if line.startswith("sweep finished"))
    assert [s.split(", wall")[0] for s in summaries] == [
        "sweep finished: 0 done, 4 skipped, 0 failed", "sweep finished: 4 done, 0 skipped, 0 failed"]
    assert not (sw / "stale" / ".timeseries.parquet.12345.tmp").exists()  # removed by the lock holder
    runs = pd.read_parquet(sw / "runs.parquet")
    assert sorted(runs["status"]) == ["skipped"] * 4


def test_run_many_waits_for_or_refuses_a_busy_folder(tmp_path, capsys):
    settings, names = _seeds(1)
    taken, release = threading.Event(), threading.Event()

    def other_sweep():  # holds the folder's lock, as another sweep would, until released
        held = lock_sweep(tmp_path)
        taken.set()
        release.wait(30)
        held.release()

    holder = threading.Thread(target=other_sweep)
    holder.start()
    assert taken.wait(30)
    with pytest.raises(SweepBusy, match="another sweep is writing into"):
        run_many(settings, tmp_path, n_jobs=1, names=names, wait=False)
    assert not (tmp_path / names[0]).exists()
    threading.Timer(1.0, release.set).start()
    start = time.monotonic()
    runs = run_many(settings, tmp_path, n_jobs=1, names=names, progress=False)
    holder.join()
    assert time.monotonic() - start >= 0.9 and list(runs["status"]) == ["done"]
    assert "waiting for it to finish" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------
# exit codes
# ------------------------------------------------------------------------------------------------
def test_sweep_exit_codes_and_limits(tmp_path):
    """3: jobs failed (here: stopped by sweep.job_timeout_s, which does not name the folders); 0: all done
    (the failed ones redone); 4: all done but the collation failed."""
    args = sweep_cmd("community=relocation", "steps=260", "seed=0,1", "hydra.sweep.dir=sw")
    limited = subprocess.run([*args, "sweep.job_timeout_s=0.02"], cwd=tmp_path, env=env(), capture_output=True,
                             text=True, timeout=300)
    assert limited.returncode == EXIT_JOBS_FAILED, limited.stdout + limited.stderr
    assert "sweep finished: 0 done, 0 skipped, 2 failed" in limited.stdout
    assert "time limit of 0.02 s reached" in limited.stdout
    folders = sorted(p.name for p in (tmp_path / "sw").iterdir() if p.is_dir())
    assert folders == ["community=relocation,seed=0,steps=260", "community=relocation,seed=1,steps=260"]
    assert read_status(tmp_path / "sw" / folders[0])["cause"] == "time_limit"
    ok = subprocess.run(args, cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "sweep finished: 2 done, 0 skipped, 0 failed" in ok.stdout
    junk = tmp_path / "sw" / "junk"
    junk.mkdir()
    (junk / "manifest.json").write_text("{")  # a folder collation cannot read
    again = subprocess.run(args, cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == EXIT_COLLATION_FAILED, again.stdout + again.stderr
    assert "sweep finished: 0 done, 2 skipped, 0 failed" in again.stdout and "collation failed" in again.stdout


# ------------------------------------------------------------------------------------------------
# honest short runs
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("steps", [1, 13, 51])
def test_short_runs_report_yearly_indicators_as_not_measurable(tmp_path, steps):
    report = run(settings_for(*SMALL, f"steps={steps}", "progress=false"), tmp_path)
    for key in YEARLY_KPIS:
        item = report["targets"][key]
        assert item["value"] is None and item["met"] is None, key
        assert item["reason"] == (f"not measurable: needs at least 52 weeks (its definition spans them); "
                                  f"the run has {steps}")
    stock = report["targets"]["volunteers_per_10k"]
    assert stock["value"] is not None and stock["met"] is not None and "reason" not in stock
    assert json.loads((tmp_path / "kpis.json").read_text())["targets"]["response_rate"]["met"] is None


def test_a_year_is_enough_and_a_longer_deadline_needs_longer_runs(tmp_path):
    report = run(settings_for(*SMALL, "steps=52", "progress=false"), tmp_path / "a")
    modelled = {key: item for key, item in report["targets"].items() if item["status"] != "not_modelled"}
    assert all("reason" not in item for item in modelled.values())
    assert report["targets"]["response_rate"]["value"] is not None
    # an indicator the model does not compute says so, whatever the run's length
    for key in ("volunteer_coverage", "safety_satisfaction"):
        assert report["targets"][key]["status"] == "not_modelled"
        assert report["targets"][key]["value"] is None and report["targets"][key]["reason"] == "not modelled"
    assert set(not_measurable(60, 52)) == set()
    assert not_measurable(52, 40) == {}
    assert set(not_measurable(10, 2)) == set(YEARLY_KPIS)


def test_run_job_records_a_config_error_without_a_child(tmp_path):
    settings, _ = _seeds(1)
    bad = settings[0]
    bad.community.households = bad.community.residents + 1
    outcome = run_job(bad, tmp_path / "j", "j")
    assert outcome.status == "failed" and outcome.error.startswith("ConfigError")
    assert read_status(tmp_path / "j")["cause"] == "exception"
