"""One job's set-up errors fail that job, not the sweep; sweeps sized before anything is built; input holes closed
(issue 29, items 3, 4, 5, 8)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from sim.runs.collate import verify
from sim.runs.outputs import MAX_FOLDER_NAME_BYTES, job_folder_name, read_json
from sim.runs.sweep import EXIT_JOBS_FAILED

REPO = Path(__file__).resolve().parent.parent
SHORT = ["community=relocation", "steps=5", "warmup_weeks=0"]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def sim_cmd(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=timeout)


# ------------------------------------------------------------------------------------------------
# item 4: a job folder name too long for the file system, a file where a job folder goes
# ------------------------------------------------------------------------------------------------
LONG_GRID = ["behaviour.callback_satisfied_unresolved=0.5,0.6", "behaviour.callback_satisfied_explained=0.15",
             "policy.charity_sales.output_yuan_per_workshop_week=300", "policy.gov_purchase.self_governing_share=0.2",
             "policy.enterprise.moral_bank_sponsor_yuan_per_year=1000",
             "community.department_cases_per_1000_week=1.5", "policy.enterprise.employee_volunteer_hours_week=0.0",
             "seed=0,1"]


def test_job_folder_names_are_shortened_with_a_hash_only_when_too_long():
    assert job_folder_name("policy=micro_fund,seed=3", 4) == "policy=micro_fund,seed=3"
    assert job_folder_name("", 7) == "job7"
    long_a, long_b = "x=" + "é" * 300 + ",seed=0", "x=" + "é" * 300 + ",seed=1"
    a, b = job_folder_name(long_a, 0), job_folder_name(long_b, 1)
    assert a != b and len(a.encode()) <= MAX_FOLDER_NAME_BYTES and len(b.encode()) <= MAX_FOLDER_NAME_BYTES
    assert a.startswith("x=éé") and a.rsplit("~", 1)[1].isalnum() and len(a.rsplit("~", 1)[1]) == 12
    a.encode().decode()  # not cut inside a character


def test_a_grid_over_long_keys_runs_every_job_in_a_shortened_folder(tmp_path):
    proc = sim_cmd(tmp_path, "-m", *SHORT, *LONG_GRID, "hydra.sweep.dir=sw")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sweep finished: 4 done, 0 skipped, 0 failed" in proc.stdout
    folders = sorted(p for p in (tmp_path / "sw").iterdir() if p.is_dir())
    assert len(folders) == 4 and all(len(p.name.encode()) <= MAX_FOLDER_NAME_BYTES and "~" in p.name
                                      for p in folders)
    manifest = read_json(folders[0] / "manifest.json")
    assert "policy.enterprise.employee_volunteer_hours_week=0.0" in manifest["overrides"]  # all kept
    runs = pd.read_parquet(tmp_path / "sw" / "runs.parquet")
    assert sorted(runs["behaviour.callback_satisfied_unresolved"]) == [0.5, 0.5, 0.6, 0.6]
    assert (runs["policy.enterprise.moral_bank_sponsor_yuan_per_year"] == 1000).all()
    assert verify(tmp_path / "sw") == []
    again = sim_cmd(tmp_path, "-m", *SHORT, *LONG_GRID, "hydra.sweep.dir=sw")  # the same folders: resumed
    assert again.returncode == 0 and "sweep finished: 0 done, 4 skipped, 0 failed" in again.stdout


def test_a_file_where_a_job_folder_goes_fails_that_job_only(tmp_path):
    sw = tmp_path / "sw"
    sw.mkdir()
    obstacle = sw / "community=relocation,seed=1,steps=5,warmup_weeks=0"
    obstacle.write_text("not a folder")
    proc = sim_cmd(tmp_path, "-m", *SHORT, "seed=0,1,2", "hydra.sweep.dir=sw")
    assert proc.returncode == EXIT_JOBS_FAILED, proc.stdout + proc.stderr
    assert "sweep finished: 2 done, 0 skipped, 1 failed" in proc.stdout
    assert f"failed: {obstacle.name}: FileExistsError: " in proc.stdout and "is a file where this job's folder" \
        in proc.stdout
    bad = dict(verify(sw))
    assert list(bad) == [obstacle.name + "~blocked"] and bad[obstacle.name + "~blocked"].startswith("failed: ")
    runs = pd.read_parquet(sw / "runs.parquet")
    assert sorted(runs["status"]) == ["done", "done", "failed"]
    assert runs.loc[runs["status"] == "failed", "seed"].tolist() == [1]  # from the overrides its status recorded
    obstacle.unlink()
    again = sim_cmd(tmp_path, "-m", *SHORT, "seed=0,1,2", "hydra.sweep.dir=sw")
    assert again.returncode == 0 and "sweep finished: 1 done, 2 skipped, 0 failed" in again.stdout, again.stdout
    assert verify(sw) == []


# ------------------------------------------------------------------------------------------------
# item 3: a dead worker (not its job) costs at most its current job
# ------------------------------------------------------------------------------------------------
def _launcher_workers(root: int) -> list[int]:
    """joblib's worker processes of the sweep ``root`` (its children running loky's worker entry point)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmdline = (entry / "cmdline").read_bytes()
            except (OSError, ValueError, IndexError):
                continue
            if ppid == root and b"popen_loky" in cmdline:
                found.append(int(entry.name))
    return found


def _run_started(job: Path) -> float:
    """When the run in ``job`` started (wall clock): its manifest was written last, ``wall_time_s`` after the start."""
    manifest = read_json(job / "manifest.json")
    return (job / "manifest.json").stat().st_mtime - manifest["wall_time_s"]


def _runs_in_progress() -> int:
    """Job processes running a sweep's run: forked by a process that is itself a loky worker's copy (a launcher
    worker, or the keeper a worker started), so their command line is loky's worker entry point, as their parent's."""
    cmdlines, parents = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmdlines[int(entry.name)] = (entry / "cmdline").read_bytes()
            except (OSError, ValueError, IndexError):
                continue
    loky = {pid for pid, cmd in cmdlines.items() if b"popen_loky" in cmd}
    return sum(1 for pid in loky if parents.get(pid) in loky)


def test_killing_a_launcher_worker_costs_only_its_job(tmp_path):
    """SIGKILL one of joblib's worker processes while jobs run: loky then stops every worker of its pool, and the
    batch is launched again; the runs in progress are not started again (each finishes in its own process, which
    outlives the worker), every job ends done, exit 0."""
    sw = tmp_path / "sw"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "-m", "community=relocation", "steps=260",
                             "warmup_weeks=0", "seed=range(0,6)", "hydra.launcher.n_jobs=2", "hydra.sweep.dir=sw"],
                            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    victim, done_before, in_progress, killed_at = None, 0, 0, 0.0
    deadline = time.monotonic() + 240
    while victim is None and proc.poll() is None and time.monotonic() < deadline:
        workers = _launcher_workers(proc.pid)
        jobs = [p for p in sw.glob("*=*") if p.is_dir()] if sw.is_dir() else []
        if workers and [p for p in jobs if (p / "status.json").exists()]:  # jobs have run: the sweep is under way
            in_progress = _runs_in_progress()
            if in_progress:
                victim, killed_at = workers[0], time.time()
                os.kill(victim, signal.SIGKILL)
                done_before = len(list(sw.glob("*/status.json")))
        time.sleep(0.02)
    out, _ = proc.communicate(timeout=300)
    assert victim is not None, out
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "a worker process of the launcher died (TerminatedWorkerError)" in out
    started_after = sum(1 for p in sw.glob("*=*") if p.is_dir() and _run_started(p) > killed_at)
    # every job not finished at the kill runs once: those in progress finish in their keepers, the rest start after
    redone = started_after - (6 - done_before - in_progress)
    # at most the dead worker's own job: a run in progress outlives the worker that waited for it; only a job the
    # worker had taken but not yet started (the kill between dispatch and its keeper's start) begins again
    # (fresh-clone CI of 2d5996f: 1 of 6, with 2 runs in progress, both not started again)
    assert redone <= 1, (redone, in_progress, out)
    assert "sweep finished: 6 done, 0 skipped, 0 failed" in out, out  # done in this sweep, none "skipped"
    assert verify(sw) == []
    assert len(pd.read_parquet(sw / "runs.parquet")) == 6


def test_a_jobs_result_is_sent_back_in_one_pipe_write():
    """What a launcher worker sends back for a job fits in one atomic pipe write (PIPE_BUF, 4,096 bytes on Linux),
    even for the long grid of item 4: a worker killed while sending a 50 kB result left loky's reader waiting for
    the rest of it and the sweep hung (CI, 2026-12-07); and the launcher sends one job per message."""
    import cloudpickle
    from hydra.core.utils import JobReturn, JobStatus
    from omegaconf import OmegaConf

    from sim.runs.sweep import SweepCallback
    from sim.settings.config import settings_for

    overrides = [*SHORT, *(o.split(",")[0] for o in LONG_GRID)]
    ret = JobReturn(overrides=overrides, cfg=OmegaConf.structured(settings_for(*overrides)),
                    hydra_cfg=OmegaConf.create({"hydra": {"job": {"name": "x" * 30_000}}}), working_dir=str(REPO),
                    task_name="__main__", status=JobStatus.COMPLETED, _return_value=None)
    assert len(cloudpickle.dumps(ret)) > 16_384  # what was sent before
    SweepCallback().on_job_end(config=OmegaConf.create({}), job_return=ret)
    assert len(cloudpickle.dumps([ret])) < 4096 and ret.overrides == overrides and ret.status == JobStatus.COMPLETED
    assert OmegaConf.load(REPO / "configs" / "hydra" / "launcher" / "local.yaml").batch_size == 1
    assert "override hydra/launcher: local" in (REPO / "configs" / "config.yaml").read_text()


def test_an_error_after_jobs_ran_exits_3_not_nothing_ran(tmp_path, monkeypatch, capsys):
    """A sweep that an unexpected error stops after some jobs finished does not claim that nothing ran (exit 2)."""
    import pytest

    from sim.runs import cli, sweep
    from sim.runs.outputs import write_status

    monkeypatch.setattr(sweep, "STARTED", tmp_path)
    cli._stopped_sweep("not started yet")  # no job has reported: left to the caller (exit 2)
    write_status(tmp_path / "seed=0", "done", "seed=0", None, 1.0)
    with pytest.raises(SystemExit) as stopped:
        cli._stopped_sweep("File exists (sw/x)")
    assert stopped.value.code == EXIT_JOBS_FAILED
    err = capsys.readouterr().err
    assert "the sweep stopped after 1 job(s): File exists (sw/x)" in err and "--verify" in err


def test_killing_a_sweeps_main_process_leaves_nothing_of_it_running(tmp_path):
    """SIGKILL of the sweep's main process: its launcher workers, the keepers and the job processes end with it
    (loky's idle workers outlived it before: found by benchmarks/campaign.py)."""
    proc = subprocess.Popen([sys.executable, "-m", "sim", "-m", "community=relocation", "steps=260", "warmup_weeks=0",
                             "seed=range(0,4)", "hydra.launcher.n_jobs=2", "hydra.sweep.dir=sw"], cwd=tmp_path,
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline and not _runs_in_progress():
        time.sleep(0.02)
    workers = _launcher_workers(proc.pid)
    ours = set(workers)
    for pid in os.listdir("/proc"):  # the keepers and job processes: they hold a job folder of the sweep open
        if pid.isdigit():
            try:
                if any(Path(os.readlink(fd)).parent == (tmp_path / "sw").resolve()
                       for fd in Path(f"/proc/{pid}/fd").iterdir()):
                    ours.add(int(pid))
            except OSError:
                continue
    assert workers and len(ours) > len(workers), ours
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(p) for p in ours):
        time.sleep(0.1)
    assert not [p for p in ours if alive(p)]
