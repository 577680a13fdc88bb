"""Run jobs in child processes, and learn how each ended, whatever ends it.

A sweep's jobs run in *job processes*, children forked from the process that only waits and
records (a sweep's worker, or :func:`sim.runs.runner.run_many`'s own process).  A job process runs one
job after another (:func:`run_jobs`) until a job ends it; :func:`run_isolated` runs a single job in
a child of its own.  An error in a job comes back as its message and traceback; a job killed by a
signal (the out-of-memory killer's SIGKILL, a crash, ``kill``) or that leaves with ``os._exit``
takes its process with it and comes back as that signal or exit code, with its peak memory; the
waiting process survives it, knows which job its child was running, and forks a new child for the
next job.  Optional limits per job: a job still running after ``timeout_s`` seconds, or whose
process's resident memory exceeds ``memory_gb``, is stopped (SIGKILL, its process with it) and the
limit is recorded as its cause.  A job process whose job raised is replaced as well, so that no job
inherits what a failed one left behind; one whose job succeeded takes the next job.

Linux and other POSIX systems (``os.fork``); where there is no fork (Windows) the jobs run in the
calling process, which isolates their errors but not their deaths.

Why fork, and why reuse the child: the child starts with the parent's imported modules already in
memory (a spawned process would import everything again, ~1 s a job); and a fresh child pays, for
its first job, for every page of memory it shares with its parent and writes to (the kernel copies
it then), which a child that runs job after job pays once.  ``benchmarks/results.md`` ("run_many vs
a Hydra multirun") measures a run both ways.  The child gets an out-of-memory score of 1000, so
that when memory runs out the kernel ends a job, not its parent.  Each job's peak memory is its
process's, counted from the job's start (Linux resets the count between jobs; elsewhere it is the
process's peak so far).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

# Held while this process forks a job process, and while a thread takes or lets go a sweep folder's file lock
# (sim.runs.outputs.lock_sweep): filelock refuses a fork while another thread is changing a lock's descriptor
# ("os.fork is unsafe while filelock is changing descriptor ownership"), e.g. two studies started at once
# from the dashboard's threads.
FORK_LOCK = threading.Lock()
_PARENT_FDS: set[int] = set()  # this process's ends of every job process's pipes (under FORK_LOCK)

MEMORY_POLL_S = 0.05  # how often the resident memory of a job with a memory limit is read
CAN_FORK = hasattr(os, "fork")
_HEADER = struct.Struct("<Q")  # every message on a job process's pipes: its length, then its pickle


@dataclass(frozen=True)
class Ended:
    """How an isolated call ended: its return ``value``, or an ``error`` text; ``details`` for status.json."""

    value: Any = None
    error: str | None = None
    died: bool = False  # the child ended without reporting (a signal, os._exit, a limit)
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """One call to make in a job process: ``func(*args)``, named ``key``, under its own limits (None: none)."""

    key: Any
    args: tuple
    timeout_s: float | None = None
    memory_gb: float | None = None
    group: Any = None  # jobs of one group go to the job process that ran the group's last job, when it is free


LOOKAHEAD_PER_WORKER = 4  # jobs read ahead per job process, to find the next job of a process's group


def run_isolated(func: Callable[..., Any], args: tuple, timeout_s: float | None = None,
                 memory_gb: float | None = None) -> Ended:
    """Call ``func(*args)`` in a forked child of its own and return how it ended; never raises for the child's end.

    ``timeout_s``: stop the child after so many seconds of wall time; ``memory_gb``: stop it when its
    resident memory exceeds so many GB (read every 0.05 s).  Ctrl-C (KeyboardInterrupt) in the
    caller stops the child and is raised again.
    """
    (_, ended), = run_jobs(func, [Job(None, args, timeout_s, memory_gb)])
    return ended


def run_kept(work: Callable[[], Any], owner: int, undelivered: Callable[[Any], Any] | None = None) -> Ended:
    """Call ``work()`` in a *keeper*: a process that outlives this one, and return what it returned.

    The keeper is handed to the system's init by a double fork, so it is not this process's child: when
    this process dies (a launcher's worker killed from outside, and with it, by joblib/loky, every other
    worker of its pool and their descendants), the keeper goes on, finishes ``work()`` (which records
    its own outcome) and ends.  It ends at once, with what it runs (job processes die with their parent),
    when ``owner`` ends (the sweep's main process: Ctrl-C or a kill of the sweep leaves no orphan).
    File descriptors of this process stay open in the keeper (a file lock on the job's folder is then
    held until the keeper ends).  ``work()``'s return value comes back through a pipe; a keeper that
    ends without sending it (killed) comes back as ``Ended(died=True)``.  ``undelivered(value)`` is called in
    the keeper when nobody is left to receive the value (this process has died).
    """
    reports_r, reports_w = os.pipe()
    with FORK_LOCK:
        inherited = list(_PARENT_FDS)
        _flush_output()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # see _JobProcess: a fork with threads running
            try:
                pid = os.fork()
            except (OSError, RuntimeError):
                os.close(reports_r)
                os.close(reports_w)
                raise
    if pid == 0:  # the intermediate process: fork the keeper, then leave at once (init adopts the keeper)
        code = 1
        try:
            os.close(reports_r)
            for fd in inherited:
                with contextlib.suppress(OSError):
                    os.close(fd)
            if os.fork() == 0:
                _keep(work, reports_w, owner, undelivered)  # never returns
            code = 0
        finally:
            os._exit(code)
    os.close(reports_w)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    received = bytearray()
    try:
        while chunk := os.read(reports_r, 1 << 16):
            received += chunk
    finally:
        os.close(reports_r)
    if received:
        try:
            value, error = pickle.loads(bytes(received))
        except Exception as exc:
            return _in_process_error(exc)
        if error is None:
            return Ended(value=value)
        return Ended(error=error, details={"cause": "exception"})
    return Ended(error="JobDied: the job's keeper process ended without reporting (killed from outside)", died=True,
                 details={"cause": "keeper_died"})


def _keep(work: Callable[[], Any], reports: int, owner: int, undelivered: Callable[[Any], Any] | None) -> NoReturn:
    """The keeper: end with ``owner``; run ``work()``; send ``(value, error)`` up ``reports``, or, if nobody reads
    any more, call ``undelivered(value)``."""
    code = 1
    try:
        _PARENT_FDS.clear()
        _PARENT_FDS.add(reports)  # not inherited by the job processes the work forks
        end_with(owner)
        value = None
        try:
            value = work()
            message = pickle.dumps((value, None))
        except BaseException as exc:  # Ctrl-C included
            message = pickle.dumps((None, f"{type(exc).__name__}: {exc}"))
        _flush_output()
        try:
            _write_all(reports, message)
        except OSError:  # nobody reads any more (the waiting process died): the work recorded itself
            if undelivered is not None:
                undelivered(value)
        code = 0
    finally:
        _flush_output()
        os._exit(code)


def end_with(owner: int) -> None:
    """End this process as soon as process ``owner`` has ended (a thread waits on a pidfd, or polls where none)."""
    try:
        watched: int | None = os.pidfd_open(owner)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd (not Linux, an old kernel): look every second
        watched = None

    def wait() -> None:
        if watched is not None:
            select.select([watched], [], [])
        else:
            while _alive(owner):
                time.sleep(1.0)
        _flush_output()
        os._exit(1)

    threading.Thread(target=wait, name="end-with-owner", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_jobs(func: Callable[..., Any], jobs: Iterable[Job], workers: int = 1) -> Iterator[tuple[Any, Ended]]:
    """Call ``func(*job.args)`` for every job in up to ``workers`` job processes at once; yield ``(job.key, Ended)``.

    The jobs are taken from ``jobs`` as job processes become free, and yielded in the order they end.
    A free job process takes the next job of the ``group`` it last ran if one is among the next few
    (jobs of a group share work a process keeps, e.g. a warm-up), else the next job of a group no other
    process is running, else the next job.  A job that dies (a signal, ``os._exit``, a limit) ends its
    job process; the next job gets a new one.  Leaving the loop early, or Ctrl-C, stops every job process.
    """
    if not CAN_FORK:
        for job in jobs:
            yield job.key, _in_process(func, job.args)
        return
    pending = iter(jobs)
    ahead: deque[Job] = deque()  # jobs read from ``jobs`` and not yet handed over
    idle: list[_JobProcess] = []
    busy: dict[int, _JobProcess] = {}  # by the file descriptor its reports arrive on
    more = True
    try:
        while True:
            while len(busy) < workers:
                while more and len(ahead) < LOOKAHEAD_PER_WORKER * workers:
                    job = next(pending, None)
                    if job is None:
                        more = False
                    else:
                        ahead.append(job)
                if not ahead:
                    break
                job = _next_job(ahead, idle[-1].job.group if idle else None, {p.job.group for p in busy.values()})
                try:
                    process = _hand_over(func, job, idle, busy)
                except (OSError, RuntimeError) as exc:  # no process could be forked (out of memory, too many
                    # processes, or a fork refused by a library's fork guard)
                    yield job.key, _in_process_error(exc)
                    continue
                busy[process.reports] = process
            if not busy:
                return
            ready, _, _ = select.select(list(busy), [], [], _next_check(busy.values()))
            for fd in ready:
                process = busy[fd]
                ended = process.read()
                if ended is None:
                    continue  # part of a report: the rest follows
                del busy[fd]
                if ended.error is None:
                    idle.append(process)
                elif not ended.died:
                    process.close()
                yield process.job.key, ended
            now = time.monotonic()
            for process in busy.values():
                process.check_limits(now)
    finally:  # a normal end leaves only idle processes; an early one (an error, Ctrl-C) stops the busy ones
        for process in busy.values():
            process.kill()
        for process in idle:
            process.close()


def _next_job(ahead: deque[Job], last_group: Any, running: set) -> Job:
    """Take from ``ahead`` the job for a process that last ran ``last_group`` while others run ``running``:
    the first of the same group, else the first of a group no one runs (or of no group), else the first."""
    at = None
    if last_group is not None:
        at = next((i for i, j in enumerate(ahead) if j.group == last_group), None)
    if at is None:
        at = next((i for i, j in enumerate(ahead) if j.group is None or j.group not in running), 0)
    job = ahead[at]
    del ahead[at]
    return job


def _hand_over(func: Callable[..., Any], job: Job, idle: list[_JobProcess],
               busy: dict[int, _JobProcess]) -> _JobProcess:
    """Give ``job`` to an idle job process (one killed from outside while idle is dropped) or to a new one."""
    try:
        message = pickle.dumps(job.args)
    except Exception:  # arguments that cannot be sent through a pipe reach a new child through the fork
        message = None
    while idle and message is not None:
        process = idle.pop()
        if process.send(job, message):
            return process
    return _JobProcess(func, job)


def _next_check(processes: Iterable[_JobProcess]) -> float | None:
    """Seconds until a running job's time limit or next memory reading is due (None: no limit to watch)."""
    due = [p.next_check() for p in processes]
    due = [d for d in due if d is not None]
    return max(0.0, min(due) - time.monotonic()) if due else None


class _JobProcess:
    """The waiting side of one job process: the child's pid, its two pipes, and the job it is running."""

    def __init__(self, func: Callable[..., Any], job: Job) -> None:
        parent = os.getpid()
        # The pipes are made, and the fork done, under FORK_LOCK: never while another thread takes or lets go a
        # file lock (sim.runs.outputs.lock_sweep), and never while another thread of this process (another study)
        # makes its own job process, whose pipes this child must not keep open: an idle job process leaves
        # when its orders pipe closes, so a copy of its write end held by another study's child would keep it
        # (and the study waiting for it) forever.
        with FORK_LOCK:
            orders_r, orders_w = os.pipe()
            reports_r, reports_w = os.pipe()
            inherited = list(_PARENT_FDS)  # every other job process's pipes, of any study of this process
            _flush_output()  # or the child would write again what the parent has not written yet
            try:
                with warnings.catch_warnings():
                    # Python warns that forking a process with threads may deadlock the child.  A parent's
                    # other threads are numpy's and Arrow's pools, which re-initialise after a fork, or a
                    # server's, which the child does not use; a limit (sweep.job_timeout_s) ends a child
                    # that hangs anyway.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    pid = os.fork()
            except (OSError, RuntimeError):
                for fd in (orders_r, orders_w, reports_r, reports_w):
                    os.close(fd)
                raise
            if pid != 0:
                _PARENT_FDS.update((orders_w, reports_r))
        if pid == 0:
            for fd in (orders_w, reports_r, *inherited):
                with contextlib.suppress(OSError):
                    os.close(fd)
            _serve(func, job.args, orders_r, reports_w, parent)  # never returns
        os.close(orders_r)
        os.close(reports_w)
        self.pid, self.orders, self.reports = pid, orders_w, reports_r
        self._start(job)

    def _start(self, job: Job) -> None:
        self.job = job
        self.started = time.monotonic()
        self.received = bytearray()
        self.limit: dict | None = None
        self.peak_seen = 0

    def send(self, job: Job, message: bytes) -> bool:
        """Give this idle process its next job; False if it has died meanwhile (it is then reaped)."""
        try:
            _write_all(self.orders, _HEADER.pack(len(message)) + message)
        except OSError:  # a broken pipe: it died meanwhile
            self.kill()
            return False
        self._start(job)
        return True

    def read(self) -> Ended | None:
        """Read what the child sent: the job's end once known (its report, or its death), else None."""
        chunk = os.read(self.reports, 1 << 16)
        if chunk:
            self.received += chunk
            if self.limit is None and len(self.received) >= _HEADER.size:
                (size,) = _HEADER.unpack_from(self.received)
                if len(self.received) >= _HEADER.size + size:
                    return _reported(bytes(self.received[_HEADER.size:]), self.peak_seen)
            return None
        _, wait_status, usage = os.wait4(self.pid, 0)  # the child has ended (killed, or left without reporting)
        self._close_pipes()
        peak_mb = round(max(_maxrss_bytes(usage.ru_maxrss), self.peak_seen) / 1e6, 1)
        return _died(wait_status, peak_mb, self.limit)

    def next_check(self) -> float | None:
        """When this job's limits must next be looked at (monotonic clock), or None if it has none."""
        if self.limit is not None:
            return None
        due = [self.started + self.job.timeout_s] if self.job.timeout_s is not None else []
        if self.job.memory_gb is not None:
            due.append(time.monotonic() + MEMORY_POLL_S)
        return min(due) if due else None

    def check_limits(self, now: float) -> None:
        """Stop the job (and its process) if it has run out of time or its process exceeds its memory limit."""
        if self.limit is not None:
            return
        if self.job.timeout_s is not None and now - self.started >= self.job.timeout_s:
            self.limit = {"cause": "time_limit", "limit_s": self.job.timeout_s}
        elif self.job.memory_gb is not None:
            self.peak_seen = max(self.peak_seen, _resident_bytes(self.pid))
            if self.peak_seen > self.job.memory_gb * 1e9:
                self.limit = {"cause": "memory_limit", "limit_gb": self.job.memory_gb}
        if self.limit is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        """Let an idle child go: it sees no more orders, leaves, and is reaped."""
        self._close_pipes()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def kill(self) -> None:
        """Stop the child at once, whatever it is doing, and reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.close()

    def _close_pipes(self) -> None:
        with FORK_LOCK:  # not while a child is forked: it would close a number this process may reuse
            for fd in (self.orders, self.reports):
                if fd >= 0:
                    _PARENT_FDS.discard(fd)
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self.orders = self.reports = -1  # closed once: the numbers may now be another job process's


# ------------------------------------------------------------------------------------------------
# the job process itself
# ------------------------------------------------------------------------------------------------
def _serve(func: Callable[..., Any], args: tuple, orders: int, reports: int, parent: int | None = None) -> NoReturn:
    """The forked child: run the job it was forked for, then each job that arrives, until no more arrive.

    Each job's report, ``(value, None, None, peak bytes)`` or ``(None, error, traceback, peak bytes)``,
    goes up the ``reports`` pipe.  A job that raised ends the process after its report (its parent
    replaces it).
    """
    code = 1
    try:
        _prefer_as_oom_victim()
        _die_with_parent(parent)
        while args is not None:
            _reset_peak_memory()
            failed = True
            try:
                result = (func(*args), None, None)
                failed = False
            except BaseException as exc:  # everything is reported, Ctrl-C included
                result = (None, f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc)))
            _flush_output()
            try:
                message = pickle.dumps((*result, _peak_memory_bytes()))
            except Exception as exc:  # a value that cannot be sent back
                failed = True
                message = pickle.dumps((None, f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc)),
                                        _peak_memory_bytes()))
            _write_all(reports, _HEADER.pack(len(message)) + message)
            args = None if failed else _receive(orders)
        code = 0
    finally:
        _flush_output()
        os._exit(code)


def _receive(fd: int) -> tuple | None:
    """The next job's arguments from the parent, or None when it sends no more (its end of the pipe closed)."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    message = _read_exactly(fd, _HEADER.unpack(header)[0])
    return None if message is None else pickle.loads(message)


def _read_exactly(fd: int, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed stream: nothing to flush
            stream.flush()


def _die_with_parent(parent: int | None) -> None:
    """End this job process when the process that waits for it dies (Linux: ``PR_SET_PDEATHSIG``; elsewhere
    nothing): a killed worker or study then leaves no orphan writing into a run folder that a re-run redoes."""
    if parent is None or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)


def _prefer_as_oom_victim() -> None:
    """Make the kernel's out-of-memory killer pick this job before its parent (Linux; elsewhere nothing)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text("1000")


def _reset_peak_memory() -> None:
    """Count this process's peak resident memory from now on (Linux: also what the parent learns if it dies)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_memory_bytes() -> int:
    """This process's peak resident memory since :func:`_reset_peak_memory` (elsewhere than Linux: ever)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return _maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# ------------------------------------------------------------------------------------------------
# how a job ended
# ------------------------------------------------------------------------------------------------
def _reported(message: bytes, peak_seen: int) -> Ended:
    """A job that reported: its value, or its error and traceback."""
    try:
        value, error, trace, peak = pickle.loads(message)
    except Exception as exc:  # a value that cannot be rebuilt here
        return _in_process_error(exc)
    memory = {"peak_memory_mb": round(max(peak, peak_seen) / 1e6, 1)}
    if error is None:
        return Ended(value=value, details=memory)
    return Ended(error=error, details={"cause": "exception", **memory, "traceback": trace})


def _died(wait_status: int, peak_mb: float, limit: dict | None) -> Ended:
    """A job whose process ended without reporting: the limit that stopped it, or its signal or exit code."""
    memory = {"peak_memory_mb": peak_mb}
    if limit is not None:
        what = (f"time limit of {limit['limit_s']:g} s" if limit["cause"] == "time_limit"
                else f"memory limit of {limit['limit_gb']:g} GB")
        text = f"{what} reached; stopped"
        details = {**limit, **memory}
    elif os.WIFSIGNALED(wait_status):
        number = os.WTERMSIG(wait_status)
        name = signal.Signals(number).name if number in signal.valid_signals() else "an unnamed signal"
        text = f"killed by {name} (signal {number})"
        if number == signal.SIGKILL:
            text += ", e.g. by the out-of-memory killer"
        details = {"cause": "signal", "signal": number, "signal_name": name, **memory}
    else:
        code = os.WEXITSTATUS(wait_status)
        text = f"exited with code {code} without reporting its result"
        details = {"cause": "exit", "exit_code": code, **memory}
    return Ended(error=f"JobDied: {text}; peak memory {peak_mb:g} MB", died=True, details=details)


def _in_process(func: Callable[..., Any], args: tuple) -> Ended:
    try:
        return Ended(value=func(*args))
    except Exception as exc:
        return _in_process_error(exc)


def _in_process_error(exc: Exception) -> Ended:
    return Ended(error=f"{type(exc).__name__}: {exc}",
                 details={"cause": "exception", "traceback": "".join(traceback.format_exception(exc))})


def _resident_bytes(pid: int) -> int:
    """The resident memory of process ``pid`` (0 if it cannot be read, e.g. it has just ended)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _maxrss_bytes(maxrss: int) -> int:
    """``ru_maxrss`` in bytes (Linux reports kilobytes, macOS bytes)."""
    return maxrss if sys.platform == "darwin" else maxrss * 1024
