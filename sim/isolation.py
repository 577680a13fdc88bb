"""Run one function in a child process of its own, and learn how it ended, whatever ends it.

A sweep's job runs in a child forked from its worker (:func:`run_isolated`); the worker only waits
and records.  An error in the job comes back as its message and traceback; a job killed by a
signal (the out-of-memory killer's SIGKILL, a crash, ``kill``) or that leaves with ``os._exit``
comes back as that signal or exit code, with the child's peak memory; the worker survives it and
goes on with the sweep's other jobs.  Optional limits: a job still running after ``timeout_s``
seconds, or whose resident memory exceeds ``memory_gb``, is stopped (SIGKILL) and the limit is
recorded as its cause.

Linux and other POSIX systems (``os.fork``); where there is no fork (Windows) the function runs in
the calling process, which isolates its errors but not its death.

Why fork: the child starts with the worker's imported modules and the job's validated settings
already in memory (a spawned process would import everything again, ~1 s a job); the measured cost
is a few milliseconds a job (README, "Sweeps").  The child gets an out-of-memory score of 1000, so
that when memory runs out the kernel ends the job, not its worker.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MEMORY_POLL_S = 0.05  # how often the resident memory of a job with a memory limit is read


@dataclass(frozen=True)
class Ended:
    """How an isolated call ended: its return ``value``, or an ``error`` text; ``details`` for status.json."""

    value: Any = None
    error: str | None = None
    died: bool = False  # the child ended without reporting (a signal, os._exit, a limit)
    details: dict = field(default_factory=dict)


def run_isolated(func: Callable[..., Any], args: tuple, timeout_s: float | None = None,
                 memory_gb: float | None = None) -> Ended:
    """Call ``func(*args)`` in a forked child and return how it ended; never raises for the child's end.

    ``timeout_s``: stop the child after so many seconds of wall time; ``memory_gb``: stop it when its
    resident memory exceeds so many GB (read every 0.05 s).  Ctrl-C (KeyboardInterrupt) in the
    caller stops the child and is raised again.
    """
    if not hasattr(os, "fork"):
        return _in_process(func, args)
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python warns that forking a process with threads may deadlock the child.  The workers'
        # other threads are numpy's and Arrow's pools, which re-initialise after a fork; a limit
        # (sweep.job_timeout_s) ends a child that hangs anyway.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        _child(func, args, read_fd, write_fd)  # never returns
    os.close(write_fd)
    start = time.monotonic()
    limit = None
    peak_seen = 0
    chunks = []
    try:
        while True:
            wait = None if memory_gb is None else MEMORY_POLL_S
            if timeout_s is not None and limit is None:
                left = max(0.0, timeout_s - (time.monotonic() - start))
                wait = left if wait is None else min(wait, left)
            ready, _, _ = select.select([read_fd], [], [], wait)
            if ready:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    break  # the child has ended (or closed its end)
                chunks.append(chunk)
                continue
            if limit is not None:
                continue
            if timeout_s is not None and time.monotonic() - start >= timeout_s:
                limit = {"cause": "time_limit", "limit_s": timeout_s}
            elif memory_gb is not None:
                peak_seen = max(peak_seen, _resident_bytes(pid))
                if peak_seen > memory_gb * 1e9:
                    limit = {"cause": "memory_limit", "limit_gb": memory_gb}
            if limit is not None:
                os.kill(pid, signal.SIGKILL)
        _, wait_status, usage = os.wait4(pid, 0)
    except BaseException:  # Ctrl-C or an error in the waiting: the child must not outlive it
        _kill_and_reap(pid)
        raise
    finally:
        os.close(read_fd)
    peak_mb = round(max(_maxrss_bytes(usage.ru_maxrss), peak_seen) / 1e6, 1)
    return _ended(b"".join(chunks), wait_status, peak_mb, limit)


def _child(func: Callable[..., Any], args: tuple, read_fd: int, write_fd: int) -> None:
    """The forked child: run, send ``(value, None, None)`` or ``(None, error, traceback)`` up the pipe, exit."""
    code = 1
    try:
        os.close(read_fd)
        _prefer_as_oom_victim()
        try:
            result = (func(*args), None, None)
            code = 0
        except BaseException as exc:  # everything is reported, Ctrl-C included
            result = (None, f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc)))
        data = pickle.dumps(result)
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed stream: nothing to flush
                stream.flush()
        os._exit(code)


def _prefer_as_oom_victim() -> None:
    """Make the kernel's out-of-memory killer pick this job before its worker (Linux; elsewhere nothing)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text("1000")


def _ended(data: bytes, wait_status: int, peak_mb: float, limit: dict | None) -> Ended:
    """How the child ended, from what it sent (if anything), its wait status and the limit that stopped it."""
    memory = {"peak_memory_mb": peak_mb}
    if limit is None and data:
        value, error, trace = pickle.loads(data)
        if error is None:
            return Ended(value=value, details=memory)
        return Ended(error=error, details={"cause": "exception", **memory, "traceback": trace})
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


def _kill_and_reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
