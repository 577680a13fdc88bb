"""Job processes that run job after job (sim.runs.isolation.run_jobs, behind sim.runs.runner.run_many): reused while
their
jobs succeed, replaced when one dies, raises or hits a limit, each job's end known exactly; outputs unchanged."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import deque
from pathlib import Path

import pytest

import sim.runs.isolation
import sim.runs.outputs
import sim.runs.runner
from sim.runs.isolation import Job, _next_job, run_jobs, run_kept
from sim.runs.runner import run, run_job, run_many
from sim.settings.config import settings_for, with_values

SMALL = ["community=relocation", "steps=13", "progress=false"]


def _act(what: str, arg: float | str = 0):
    """A job: report its process id, or die, raise, sleep, or hold ``arg`` MB for a moment."""
    if what == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if what == "exit":
        os._exit(3)
    if what == "raise":
        raise ValueError(arg)
    if what == "sleep":
        time.sleep(arg)
    if what == "hold":
        block = bytearray(int(arg * 1e6))
        block[::4096] = b"x" * len(block[::4096])  # touch every page: resident, not just reserved
        del block
    if what == "pid_file":
        Path(arg).write_text(str(os.getpid()))
        time.sleep(60)
    return os.getpid()


def _ends(jobs, workers=2) -> dict:
    return dict(run_jobs(_act, [Job(key, args, *limits) for key, args, *limits in jobs], workers))


def test_a_job_process_runs_job_after_job_and_each_death_is_the_job_it_was_running():
    ends = _ends([("a", ("pid",)), ("b", ("pid",)), ("killed", ("kill",)), ("c", ("pid",)), ("left", ("exit",)),
                  ("raised", ("raise", "bad value")), ("d", ("pid",)), ("e", ("pid",)), ("f", ("pid",)),
                  ("slow", ("sleep", 30), 0.3), ("g", ("pid",)), ("big", ("hold", 2000), None, 0.3), ("h", ("pid",))])
    assert (ends["killed"].died, ends["killed"].details["cause"], ends["killed"].details["signal"]) == \
        (True, "signal", signal.SIGKILL)
    assert (ends["left"].died, ends["left"].details["cause"], ends["left"].details["exit_code"]) == (True, "exit", 3)
    assert not ends["raised"].died and ends["raised"].error == "ValueError: bad value"
    assert "Traceback" in ends["raised"].details["traceback"]
    assert ends["slow"].died and ends["slow"].details["cause"] == "time_limit"
    assert ends["big"].died and ends["big"].details["cause"] == "memory_limit"
    done = {key: e.value for key, e in ends.items() if e.error is None}
    assert sorted(done) == list("abcdefgh")  # every other job finished
    assert os.getpid() not in done.values()
    assert len(set(done.values())) < len(done)  # processes were reused: fewer of them than jobs


def test_a_job_process_is_reused_until_a_job_ends_it():
    ends = list(run_jobs(_act, [Job(i, ("kill",) if i == 2 else ("pid",)) for i in range(5)], workers=1))
    assert [key for key, _ in ends] == [0, 1, 2, 3, 4]  # one process at a time: in order
    pids = [e.value for _, e in ends]
    assert pids[0] == pids[1] and ends[2][1].died and pids[3] == pids[4] and pids[3] != pids[0]


def test_each_job_counts_its_own_peak_memory():
    ends = dict(run_jobs(_act, [Job("big", ("hold", 400)), Job("small", ("pid",)), Job("killed", ("kill",))]))
    big, small, killed = (ends[k].details["peak_memory_mb"] for k in ("big", "small", "killed"))
    assert big > 400 and small < big - 300 and killed < big - 300  # the small jobs ran after the big one


def test_a_process_killed_while_idle_is_replaced_for_the_next_job():
    jobs = run_jobs(_act, [Job(i, ("pid",)) for i in range(3)], workers=1)
    (_, first), = [next(jobs)]
    os.kill(first.value, signal.SIGKILL)  # between two jobs: no job of its was running
    for _ in range(500):  # until it has ended (a zombie: its pipes are closed), not yet reaped
        if Path(f"/proc/{first.value}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            break
        time.sleep(0.01)
    rest = dict(jobs)
    assert all(e.error is None for e in rest.values()) and rest[1].value != first.value


def test_leaving_early_stops_the_running_jobs(tmp_path):
    pid_file = tmp_path / "pid"
    jobs = run_jobs(_act, [Job("quick", ("pid",)), Job("stuck", ("pid_file", str(pid_file)))], workers=2)
    next(jobs)
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.02)
    stuck = int(pid_file.read_text())
    jobs.close()
    assert not Path(f"/proc/{stuck}").exists()  # stopped and reaped, not left running


def test_arguments_and_values_that_cannot_be_pickled():
    ends = dict(run_jobs(lambda f: f(), [Job(1, (lambda: 5,)), Job(2, (lambda: 6,)), Job(3, (lambda: lambda: 0,))]))
    assert (ends[1].value, ends[2].value) == (5, 6)  # arguments reach a new process through the fork
    assert not ends[3].died and "pickle" in ends[3].error.lower()  # a value that cannot come back is an error


def test_without_fork_jobs_run_in_the_calling_process(monkeypatch):
    monkeypatch.setattr(sim.runs.isolation, "CAN_FORK", False)
    ends = dict(run_jobs(_act, [Job("a", ("pid",)), Job("raised", ("raise", "x"))]))
    assert ends["a"].value == os.getpid() and ends["raised"].error == "ValueError: x"


def _outputs(folder: Path) -> dict:
    return {name: (folder / name).read_bytes() for name in ("timeseries.parquet", "kpis.json")}


def test_run_many_writes_byte_identical_outputs_to_run(tmp_path, monkeypatch):
    base = settings_for(*SMALL)
    settings = [with_values(base, {"seed": s}) for s in range(5)]
    names = [f"seed={s}" for s in range(5)]
    for s, name in zip(settings, names, strict=True):
        run(s, tmp_path / "alone" / name, progress=False)
    run_many(settings, tmp_path / "many", n_jobs=2, names=names, progress=False)
    run_many(settings, tmp_path / "again", n_jobs=1, names=names, progress=False)
    monkeypatch.setattr(sim.runs.runner, "CAN_FORK", False)  # where there is no fork: joblib's workers
    runs = run_many(settings, tmp_path / "joblib", n_jobs=1, names=names, progress=False)
    assert list(runs["status"]) == ["done"] * 5
    for name in names:
        expected = _outputs(tmp_path / "alone" / name)
        for way in ("many", "again", "joblib"):
            assert _outputs(tmp_path / way / name) == expected, (way, name)
    assert len({_outputs(tmp_path / "alone" / n)["timeseries.parquet"] for n in names}) == 5  # seeds differ


def test_a_free_job_process_takes_the_next_job_of_its_group():
    """The choice of run_jobs for a free process: its group's next job, else a group nobody runs, else the next."""
    def ahead(*groups):
        return deque(Job(f"{g}-{i}", (), group=g) for i, g in enumerate(groups))

    assert _next_job(ahead("g2", "g1", "g1"), "g1", {"g2"}).key == "g1-1"             # its own group first
    assert _next_job(ahead("g2", "g3", None), None, {"g2"}).key == "g3-1"             # a new process: a free group
    assert _next_job(ahead("g2", None, "g3"), "g1", {"g2"}).key == "None-1"           # no group: anyone's
    assert _next_job(ahead("g2", "g2"), "g1", {"g2"}).key == "g2-0"                   # never idle: the next job
    left = ahead("g1", "g2", "g1")
    _next_job(left, "g1", set())
    assert [j.key for j in left] == ["g2-1", "g1-2"]                                   # taken out, order kept
    jobs = [Job(f"{g}-{i}", ("pid",), group=g) for i, g in enumerate(["g1", "g2"] * 3)]
    ends = dict(run_jobs(_act, jobs, workers=2))
    assert sorted(ends) == sorted(j.key for j in jobs) and all(e.error is None for e in ends.values())


def test_runs_sharing_a_warm_up_are_byte_identical_to_runs_alone(tmp_path):
    """A policy sweep (policy-major, as Hydra orders it): run_many warms each seed once per job process and copies
    the warmed community for each policy; the outputs are those of separate runs, byte for byte."""
    policies, seeds = ("baseline", "five_society", "gov_purchase"), (0, 1)
    settings, names = [], []
    for policy in policies:
        for seed in seeds:
            settings.append(settings_for(*SMALL, f"policy={policy}", f"seed={seed}"))
            names.append(f"policy={policy},seed={seed}")
    assert settings[0].warmup_weeks > 0
    jobs = [(s, None, n, []) for s, n in zip(settings, names, strict=True)]
    order = [job[2] for job in sim.runs.runner._warmups_together(jobs)]
    assert order == [f"policy={p},seed={s}" for s in seeds for p in policies]  # each seed's runs together
    run_many(settings, tmp_path / "many", n_jobs=2, names=names, progress=False)
    warmed = sim.runs.runner.WarmedModels(size=1)
    for s, name in zip(settings, names, strict=True):
        assert _outputs(tmp_path / "many" / name) == _outputs(_alone(s, tmp_path / "alone" / name)), name
        warmed.model(s)
    assert (warmed.warmed, warmed.reused) == (len(policies) * len(seeds), 0)  # seeds alternate: nothing to reuse
    warmed = sim.runs.runner.WarmedModels(size=1)
    for s in sorted(settings, key=lambda s: s.seed):
        warmed.model(s)
    assert (warmed.warmed, warmed.reused) == (len(seeds), len(seeds) * (len(policies) - 1))


def _alone(settings, folder: Path) -> Path:
    run(settings, folder, progress=False)
    return folder


def _slow_run(settings, out_dir, progress, overrides, share_warmup=False):
    """`sim.runs.runner.run`, except that seed 1 hangs."""
    if settings.seed == 1:
        time.sleep(60)
    return run(settings, out_dir, progress, overrides, share_warmup)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_run_many_records_a_time_limit_and_finishes_the_others(tmp_path, monkeypatch, n_jobs):
    base = settings_for(*SMALL)
    settings = [with_values(base, {"seed": s}) for s in range(4)]
    settings[1] = with_values(settings[1], {"sweep.job_timeout_s": 0.5})
    monkeypatch.setattr(sim.runs.runner, "run", _slow_run)  # inherited by the job processes forked from this one
    runs = run_many(settings, tmp_path, n_jobs=n_jobs, progress=False).set_index("run_dir")
    assert runs["status"].to_dict() == {"run00000": "done", "run00001": "failed", "run00002": "done",
                                        "run00003": "done"}
    assert runs.loc["run00001", "cause"] == "time_limit"
    assert not (tmp_path / "run00001" / "manifest.json").exists()


def test_a_job_whose_process_cannot_be_forked_is_recorded_and_nothing_leaks(monkeypatch):
    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    open_fds = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "fork", no_fork)
    ends = dict(run_jobs(_act, [Job(1, ("pid",)), Job(2, ("pid",))]))
    assert [e.error for e in ends.values()] == ["BlockingIOError: [Errno 11] Resource temporarily unavailable"] * 2
    assert len(os.listdir("/proc/self/fd")) == open_fds


# ------------------------------------------------------------------------------------------------
# keepers: a sweep job's run outlives the launcher worker that waits for it (issue 29: a dead worker costs at
# most its job)
# ------------------------------------------------------------------------------------------------
def _wait_for(predicate, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _ids():
    return os.getpid(), os.getppid()


def test_a_kept_call_returns_its_value_from_a_process_that_is_not_the_callers_child():
    ended = run_kept(_ids, os.getpid())
    assert ended.error is None
    keeper, parent = ended.value
    assert keeper != os.getpid() and parent != os.getpid()  # handed to init: loky's kill of a worker's tree misses it


def test_a_kept_call_outlives_its_killed_caller_and_says_nobody_received_it(tmp_path):
    done, undelivered = tmp_path / "done", tmp_path / "undelivered"

    def work():
        time.sleep(1.0)
        done.write_text(str(os.getpid()))
        return "value"

    caller = os.fork()
    if caller == 0:  # the launcher's worker
        try:
            run_kept(work, os.getppid(), lambda value: undelivered.write_text(value))
        finally:
            os._exit(0)
    time.sleep(0.3)
    os.kill(caller, signal.SIGKILL)
    os.waitpid(caller, 0)
    assert _wait_for(undelivered.exists), "the keeper did not finish after its caller died"
    assert done.exists() and undelivered.read_text() == "value"


def test_a_keeper_ends_with_its_owner_and_a_killed_keeper_is_a_death(tmp_path):
    pid_file = tmp_path / "keeper"

    def work():
        pid_file.write_text(str(os.getpid()))
        time.sleep(60)

    owner = os.fork()
    if owner == 0:  # the sweep's main process
        time.sleep(60)
        os._exit(0)
    caller = os.fork()
    if caller == 0:
        try:
            run_kept(work, owner)
        finally:
            os._exit(0)
    try:
        assert _wait_for(pid_file.exists)
        keeper = int(pid_file.read_text())
        os.kill(owner, signal.SIGKILL)
        os.waitpid(owner, 0)
        assert _wait_for(lambda: not _alive(keeper), 10), "the keeper outlived the sweep's main process"
    finally:
        for pid in (owner, caller):
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
    pid_file.unlink()
    found = {}
    thread = threading.Thread(target=lambda: found.setdefault("ended", run_kept(work, os.getpid())))
    thread.start()
    assert _wait_for(pid_file.exists)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    thread.join(20)
    assert found["ended"].died and found["ended"].details["cause"] == "keeper_died"


def test_a_sweep_job_launched_again_waits_for_its_run_instead_of_starting_it_again(tmp_path, monkeypatch):
    """Two calls of one job of a sweep attempt (as when the batch is launched again after a worker died): the second
    waits on the job folder's lock while the first's run goes on, then returns the outcome it recorded."""
    monkeypatch.setenv(sim.runs.runner.OWNER_ENV, str(os.getpid()))
    monkeypatch.setenv(sim.runs.runner.ATTEMPT_ENV, "attempt-1")
    settings = settings_for(*SMALL, "steps=104")
    out = tmp_path / "seed=0"
    first = {}
    thread = threading.Thread(target=lambda: first.setdefault("outcome", run_job(settings, out, "seed=0")))
    thread.start()
    assert _wait_for(lambda: out.is_dir())
    time.sleep(0.2)
    again = run_job(settings, out, "seed=0")  # waits for the first call's run
    thread.join(60)
    assert first["outcome"].status == "done" and first["outcome"].recorded is None
    assert (again.status, again.recorded) == ("done", "earlier") and again.report == first["outcome"].report
    status = sim.runs.outputs.read_status(out)
    assert status["attempt"] == "attempt-1" and status["status"] == "done"
    monkeypatch.setenv(sim.runs.runner.ATTEMPT_ENV, "attempt-2")  # another sweep into the folder: complete, skipped
    assert run_job(settings, out, "seed=0").status == "skipped"
