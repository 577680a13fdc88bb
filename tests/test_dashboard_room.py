"""A dashboard that holds a room (issue 29, items 9 and 10): new shared runs built outside the global lock, links
checked against the sliders (tests/test_workshop.py), the replicates' cache private and bounded."""

from __future__ import annotations

import os
import threading
import time
from typing import ClassVar

import pytest

import dashboard.replicates as rp
import dashboard.session as se


class _SlowRun:
    """A shared run that takes ``delay`` seconds to build (a warm-up), counting its builds."""

    built: ClassVar[list[str]] = []
    delay = 1.0

    def __init__(self, scenarios, changes=()):
        time.sleep(self.delay)
        _SlowRun.built.append(scenarios)


def test_a_new_run_is_built_outside_the_global_lock_and_once_for_all_who_wait(monkeypatch):
    monkeypatch.setattr(se, "SharedRun", _SlowRun)
    _SlowRun.built = []
    runs = se.SharedRuns()
    _SlowRun.delay = 0.0
    runs.get(("old",), "old")  # a run already in memory
    _SlowRun.delay = 1.0
    got: dict[str, object] = {}
    seconds: dict[str, float] = {}

    def page(name: str, key: tuple) -> None:
        start = time.monotonic()
        got[name] = runs.get(key, name)
        seconds[name] = time.monotonic() - start

    building = [threading.Thread(target=page, args=(f"new{k}", ("new",))) for k in range(3)]
    for t in building:
        t.start()
    time.sleep(0.2)  # the new run is being built
    page("old-again", ("old",))
    for t in building:
        t.join(10)
    assert seconds["old-again"] < 0.2  # before: it waited for the whole build (the global lock)
    assert len(_SlowRun.built) == 2 and _SlowRun.built[0] == "old"  # three pages, one build
    assert got["new0"] is got["new1"] is got["new2"] and len(runs) == 2


def test_a_failed_build_is_reported_to_every_page_waiting_for_it_and_retried_later(monkeypatch):
    class Broken:
        def __init__(self, scenarios, changes=()):
            time.sleep(0.3)
            raise ValueError("no such community")

    monkeypatch.setattr(se, "SharedRun", Broken)
    runs = se.SharedRuns()
    errors = []

    def page() -> None:
        try:
            runs.get(("k",), {})
        except Exception as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=page) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(errors) == 3 and all("no such community" in e for e in errors)
    monkeypatch.setattr(se, "SharedRun", _SlowRun)
    _SlowRun.delay = 0.0
    assert isinstance(runs.get(("k",), {}), _SlowRun)  # not stuck: the next page builds it


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="file ownership is a POSIX notion")
def test_the_replicates_cache_is_private_refuses_another_accounts_folder_and_is_bounded(tmp_path, monkeypatch):
    mine = tmp_path / "cache"
    monkeypatch.setenv(rp.CACHE_ENV, str(mine))
    root = rp.cache_root()
    assert root == mine and (root.stat().st_mode & 0o777) == 0o700
    os.chmod(root, 0o777)  # ours but opened up: closed again
    assert (rp.cache_root().stat().st_mode & 0o777) == 0o700
    link = tmp_path / "link"
    link.symlink_to(mine)
    monkeypatch.setenv(rp.CACHE_ENV, str(link))
    with pytest.raises(rp.CacheError, match="belongs to another account"):
        rp.cache_root()
    if os.getuid() == 0:  # as root, give a folder to another account as a squatter would have made it
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        os.chown(theirs, 54321, 54321)
        monkeypatch.setenv(rp.CACHE_ENV, str(theirs))
        with pytest.raises(rp.CacheError, match="belongs to another account"):
            rp.cache_root()
    monkeypatch.delenv(rp.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert rp.cache_root() == tmp_path / "xdg" / "five_society_dashboard"  # no longer /tmp, shared by all
    for k, age in enumerate((300, 200, 100)):  # three comparisons of 1 MB, the oldest first
        folder = mine / f"c{k}"
        folder.mkdir()
        (folder / "runs.bin").write_bytes(b"x" * 1_000_000)
        os.utime(folder, (time.time() - age, time.time() - age))
    removed = rp.prune_cache(mine, 2_100_000, keep=mine / "c0")
    assert removed == [mine / "c1"]  # the least recently used other than the one in use
    assert sorted(p.name for p in mine.iterdir()) == ["c0", "c2"]
    monkeypatch.setenv(rp.CACHE_LIMIT_ENV, "1.5")
    assert rp.cache_limit_bytes() == 1_500_000


def test_replicates_pressed_at_once_on_two_pages_do_not_crash(tmp_path, monkeypatch):
    """Two participants pressing "Run 20 seeds" at once (threads of one server): before, 2 of 8 got
    'os.fork is unsafe while filelock is changing descriptor ownership'."""
    monkeypatch.setenv(rp.CACHE_ENV, str(tmp_path / "cache"))
    comps = [se.comparison("relocation", seed=s, steps=3, a=("baseline", {}), b=("micro_fund", {}))
             for s in (0, 50)]
    out, errors = {}, []

    def press(k: int) -> None:
        try:
            out[k] = rp.run_replicates(comps[k], n_seeds=4, n_jobs=2)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    for _ in range(2):
        threads = [threading.Thread(target=press, args=(k,), daemon=True) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        assert not any(t.is_alive() for t in threads)
    assert errors == [] and [len(t) for t in out.values()] == [2 * 4 * 3] * 2  # 2 sides × 4 seeds × 3 weeks
    assert (tmp_path / "cache").stat().st_mode & 0o777 == 0o700
