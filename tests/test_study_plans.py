"""Studies that never claim to be complete when they are not (issue 29): a plan recorded before any run starts,
checked by ``python -m sim.runs.collate --verify`` and by plain collation, which refuses what verification flags unless
told to skip (and then says so in the table)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.runs.collate import CollateError, collate, verify
from sim.runs.outputs import read_json
from sim.runs.runner import run_many
from sim.settings.config import settings_for, with_values

REPO = Path(__file__).resolve().parent.parent
SMALL = ["community=relocation", "steps=13", "warmup_weeks=0"]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def _study(n: int, *extra: str):
    base = settings_for(*SMALL, *extra)
    return [with_values(base, {"seed": s}) for s in range(n)], [f"seed={s}" for s in range(n)]


def _collate_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.runs.collate", *map(str, args)], capture_output=True, text=True,
                          env=_env(), timeout=120)


# ------------------------------------------------------------------------------------------------
# item 1: a study cut short is not "verified"
# ------------------------------------------------------------------------------------------------
STUDY = textwrap.dedent("""
    import sys
    from sim.settings.config import settings_for, with_values
    from sim.runs.runner import run_many
    base = settings_for("community=relocation", "steps=30", "warmup_weeks=0")
    n = int(sys.argv[2])
    run_many([with_values(base, {"seed": s}) for s in range(n)], sys.argv[1], n_jobs=1,
             names=[f"seed={s}" for s in range(n)], progress=False)
""")


def test_a_study_killed_after_two_of_eight_runs_is_not_verified(tmp_path):
    script = tmp_path / "study.py"
    script.write_text(STUDY)
    folder = tmp_path / "D"
    proc = subprocess.Popen([sys.executable, str(script), str(folder), "8"], env=_env(), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list(folder.glob("*/status.json"))) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the study and its job processes, as a killed session would
    proc.wait()
    plan = read_json(folder / "sweep.json")
    assert plan["kind"] == "study" and plan["jobs"] == 8 and sorted(plan["runs"]) == [f"seed={s}" for s in range(8)]
    assert all(len(h) == 64 for h in plan["runs"].values())  # each run's config hash, known before it ran
    done = {p.parent.name for p in folder.glob("*/manifest.json")}
    assert 2 <= len(done) < 8
    checked = _collate_cli("--verify", folder)
    assert checked.returncode == 1, checked.stdout
    assert f"{8 - len(done)} bad run(s)" in checked.stderr and "verified" not in checked.stdout
    for s in range(8):
        if f"seed={s}" not in done:
            assert f"seed={s}: " in checked.stderr
    refused = _collate_cli(folder)  # plain collation refuses, naming the runs
    assert refused.returncode == 1 and "bad run(s)" in refused.stderr and "--skip-bad" in refused.stderr
    assert not (folder / "runs.parquet").exists()
    skipped = _collate_cli("--skip-bad", folder)
    assert skipped.returncode == 0, skipped.stderr
    runs = pd.read_parquet(folder / "runs.parquet")
    assert len(runs) == 8 and set(runs.loc[runs["status"].isin(["done", "skipped"]), "run_dir"]) == done
    assert runs.attrs["collate"]["skip_bad"] is True and len(runs.attrs["collate"]["left_out"]) == 8 - len(done)
    assert b"skip_bad" in pq.read_schema(folder / "runs.parquet").metadata[b"PANDAS_ATTRS"]  # in the file
    settings, names = _study(8)
    settings = [with_values(s, {"steps": 30}) for s in settings]
    runs = run_many(settings, folder, n_jobs=1, names=names, progress=False)  # the same study again: completes it
    assert sorted(runs["status"]) == sorted(["skipped"] * len(done) + ["done"] * (8 - len(done)))
    ok = _collate_cli("--verify", folder)
    assert ok.returncode == 0 and "all 8 runs" in ok.stdout, ok.stderr


# ------------------------------------------------------------------------------------------------
# item 6: every damaged or missing piece named, by --verify and by plain collation
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("study") / "S"
    settings, names = _study(3)
    runs = run_many(settings, folder, n_jobs=1, names=names, progress=False)
    assert list(runs["status"]) == ["done"] * 3 and not runs.attrs["collate"]["left_out"]
    return folder


def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _damage(kind: str, d: Path) -> None:
    run = d / "seed=1"
    if kind == "no_manifest":
        (run / "manifest.json").unlink()
    elif kind == "old_manifest_altered_kpis":
        _edit_json(run / "manifest.json", lambda m: m.pop("outputs"))
        _edit_json(run / "kpis.json", lambda k: k["totals"].update({"fund_balance": 1e9}))
    elif kind == "empty_manifest":
        (run / "manifest.json").write_text("{}")
    elif kind == "unreadable_manifest":
        (run / "manifest.json").write_text("{not json")
    elif kind == "edited_config":
        _edit_json(run / "manifest.json", lambda m: m["config"].update({"steps": 99}))
    elif kind == "unreadable_status":
        (run / "status.json").write_text("{")
    elif kind == "failed_status":
        _edit_json(run / "status.json", lambda s: s.update({"status": "failed", "error": "JobDied: killed"}))
    elif kind == "truncated_timeseries":
        data = (run / "timeseries.parquet").read_bytes()
        (run / "timeseries.parquet").write_bytes(data[:len(data) // 2])
    elif kind == "missing_kpis":
        (run / "kpis.json").unlink()
    elif kind == "copied_run":
        shutil.copytree(run, d / "seed=1 (copy)")
    elif kind == "stray_run":
        shutil.copytree(run, d / "seed=9")
        _edit_json(d / "seed=9" / "status.json", lambda s: s.update({"job": "seed=9"}))
    elif kind == "deleted_run":
        shutil.rmtree(run)
    elif kind == "no_plan":
        (d / "sweep.json").unlink()
    elif kind == "damaged_plan":
        (d / "sweep.json").write_text('{"jobs": "three"')
    elif kind == "other_config_in_planned_folder":
        _edit_json(d / "sweep.json", lambda p: p["runs"].update({"seed=1": "0" * 64}))
    elif kind == "truncated_runs_table":
        data = (d / "runs.parquet").read_bytes()
        (d / "runs.parquet").write_bytes(data[:len(data) // 2])
    elif kind == "truncated_long_table":
        data = (d / "timeseries.parquet").read_bytes()
        (d / "timeseries.parquet").write_bytes(data[:len(data) // 3])
    else:
        raise AssertionError(kind)


DAMAGE = {  # kind: (what --verify names, the reason it gives, refused by plain collation)
    "no_manifest": ("seed=1", "no manifest (the run did not finish)", True),
    "old_manifest_altered_kpis": ("seed=1", "records no sizes and checksums", True),
    "empty_manifest": ("seed=1", "records no sizes and checksums", True),
    "unreadable_manifest": ("seed=1", "manifest.json is unreadable", True),
    "edited_config": ("seed=1", "config does not give its config hash", True),
    "unreadable_status": ("seed=1", "status.json is unreadable", True),
    "failed_status": ("seed=1", "failed: JobDied: killed", True),
    "truncated_timeseries": ("seed=1", "timeseries.parquet has", True),
    "missing_kpis": ("seed=1", "kpis.json is missing", True),
    "copied_run": ("seed=1 (copy)", "a copy of run seed=1", True),
    "stray_run": ("seed=9", "not in the plan", True),
    "deleted_run": ("seed=1", "planned, but no run folder (never started)", True),
    "no_plan": ("sweep.json", "no sweep.json: the plan of this folder is unknown", True),
    "damaged_plan": ("sweep.json", "sweep.json is unreadable or damaged", True),
    "other_config_in_planned_folder": ("seed=1", "the manifest is of another config", True),
    "truncated_runs_table": ("runs.parquet", "unreadable", False),
    "truncated_long_table": ("timeseries.parquet", "unreadable", False),
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_verify_and_collate_name_each_damaged_or_missing_piece(study, tmp_path, kind):
    d = tmp_path / "S"
    shutil.copytree(study, d)
    assert verify(d) == []
    _damage(kind, d)
    name, reason, refused = DAMAGE[kind]
    bad = verify(d)
    assert bad[0][0] == name and reason in bad[0][1], bad
    assert all(b[0] == "runs.parquet" and b[1].startswith("out of date") for b in bad[1:]), bad  # then stale
    checked = _collate_cli("--verify", d)
    assert checked.returncode == 1 and f"  {name}: " in checked.stderr and "Traceback" not in checked.stderr
    if not refused:  # a damaged collated table: collating again repairs it
        assert _collate_cli(d).returncode == 0 and verify(d) == []
        return
    before = (d / "runs.parquet").read_bytes()
    with pytest.raises(CollateError, match=rf"1 bad run\(s\) in .*{name.replace('(', '.').replace(')', '.')}: "):
        collate(d)
    plain = _collate_cli(d)
    assert plain.returncode == 1 and name in plain.stderr and "Traceback" not in plain.stderr
    assert (d / "runs.parquet").read_bytes() == before  # nothing rewritten
    runs = collate(d, skip_bad=True, warn=False)
    assert runs.attrs["collate"]["skip_bad"] and runs.attrs["collate"]["left_out"][0].startswith(f"{name}: ")
    good = runs[runs["status"].isin(["done", "skipped"])]
    assert set(good["run_dir"]) <= {"seed=0", "seed=1", "seed=2"} and good["run_dir"].is_unique
    if name.startswith("seed="):
        row = runs[runs["run_dir"] == name]
        assert len(row) == 1 and row["status"].iloc[0] in ("failed", "corrupt", "missing")
        assert pd.isna(row["fund_balance"].iloc[0]) if "fund_balance" in row else True
    assert pd.read_parquet(d / "runs.parquet").attrs["collate"]["skip_bad"] is True


def test_a_renamed_run_folder_is_still_its_planned_run(study, tmp_path):
    d = tmp_path / "S"
    shutil.copytree(study, d)
    (d / "seed=2").rename(d / "third")
    assert verify(d) == [("runs.parquet", "out of date: 1 run folder(s) not in it (third); 1 run folder(s) listed "
                                          "that are gone (seed=2); collate again")]
    runs = collate(d)
    assert sorted(runs["run_dir"]) == ["seed=0", "seed=1", "third"] and verify(d) == []


# ------------------------------------------------------------------------------------------------
# item 2: a district sweep collates (both tables), and its plan names its jobs
# ------------------------------------------------------------------------------------------------
def test_a_district_sweep_collates_both_tables_and_is_checked_against_its_plan(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim", "-m", "district=small_district", "seed=0,1", "steps=2",
                           "warmup_weeks=0", "hydra.sweep.dir=D"], cwd=tmp_path, env=_env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    d = tmp_path / "D"
    names = [f"district=small_district,seed={s},steps=2,warmup_weeks=0" for s in (0, 1)]
    plan = read_json(d / "sweep.json")
    assert plan["kind"] == "sweep" and plan["jobs"] == 2 and sorted(plan["runs"]) == names
    runs = pd.read_parquet(d / "runs.parquet")
    assert list(runs["status"]) == ["done", "done"] and list(runs["district"]) == ["small_district"] * 2
    assert runs["orgs_per_community"].notna().all()  # the district's own KPIs
    ts = pd.read_parquet(d / "timeseries.parquet")
    assert list(ts.columns) == ["run", "community_id", "step", "indicator", "value"]
    members = read_json(d / names[0] / "manifest.json")["config"]["district"]["communities"]
    n_communities = sum(m["count"] for m in members)
    assert sorted(ts["community_id"].unique()) == [-1, *range(n_communities)]  # -1: the district's own table
    assert "preset" not in set(ts["indicator"])  # a community's preset is text, not an indicator
    own = ts[(ts["run"] == 0) & (ts["community_id"] == -1) & (ts["indicator"] == "orgs_per_community")]
    assert list(own["step"]) == [1, 2]
    one = ts[(ts["run"] == 1) & (ts["community_id"] == 3) & (ts["indicator"] == "residents")]
    assert list(one["step"]) == [1, 2] and (one["value"] > 0).all()
    assert _collate_cli("--verify", d).returncode == 0
    shutil.rmtree(d / names[1])  # a job that never ran: named from the plan
    assert verify(d)[0] == (names[1], "planned, but no run folder (never started)")
    refused = _collate_cli(d)
    assert refused.returncode == 1 and names[1] in refused.stderr


# ------------------------------------------------------------------------------------------------
# item 7: run_many never raises for a run's failure, a full disk included
# ------------------------------------------------------------------------------------------------
def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_run_many_records_and_returns_runs_that_a_full_disk_stops(tmp_path, monkeypatch, capsys):
    """The disk fills after the plan is written: each run fails writing its table, the runs table cannot be
    written either; run_many returns the failures (recorded in each status.json) instead of raising."""
    settings, names = _study(3)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _full_disk)  # inherited by the forked job processes
    runs = run_many(settings, tmp_path, n_jobs=1, names=names)
    assert list(runs["status"]) == ["failed"] * 3
    assert runs["error"].str.contains("No space left on device").all()
    assert "runs.parquet could not be written" in runs.attrs["collate"]["not_written"]
    out, err = capsys.readouterr()
    assert "sweep finished: 0 done, 0 skipped, 3 failed" in out and "could not be written" in err
    assert read_json(tmp_path / "seed=0" / "status.json")["cause"] == "exception"
    assert not list(tmp_path.glob("*/.*.tmp")) and not list(tmp_path.glob("*/manifest.json"))
    assert not (tmp_path / "runs.parquet").exists()
    monkeypatch.undo()
    assert list(run_many(settings, tmp_path, n_jobs=1, names=names, progress=False)["status"]) == ["done"] * 3


def test_run_many_returns_every_run_failed_when_not_even_its_plan_can_be_written(tmp_path, monkeypatch):
    settings, names = _study(2)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _full_disk)
    monkeypatch.setattr(Path, "write_text", _full_disk)
    monkeypatch.setattr(Path, "write_bytes", _full_disk)
    runs = run_many(settings, tmp_path / "S", n_jobs=1, names=names, progress=False)
    assert list(runs["run_dir"]) == names and list(runs["status"]) == ["failed"] * 2
    assert runs["error"].str.contains("plan could not be written").all()
    assert not [p for p in (tmp_path / "S").iterdir() if p.name != ".sweep.lock"]  # no run was started


# ------------------------------------------------------------------------------------------------
# item 9 (the dashboard's "Run 20 seeds" pressed by several participants at once): studies in threads
# ------------------------------------------------------------------------------------------------
def test_studies_started_at_once_from_threads_neither_fail_nor_hang(tmp_path):
    """Before: 'os.fork is unsafe while filelock is changing descriptor ownership' (12 of 32 studies), and an
    idle job process kept alive by another study's child holding its orders pipe (a hang)."""
    import threading

    settings, names = _study(4)
    results, errors = [], []

    def click(folder: Path) -> None:
        try:
            results.append(list(run_many(settings, folder, n_jobs=2, names=names, progress=False)["status"]))
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    for rep in range(3):
        threads = [threading.Thread(target=click, args=(tmp_path / f"{rep}-{k}",), daemon=True) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        assert not any(t.is_alive() for t in threads), "a study hangs"
    assert errors == [] and results == [["done"] * 4] * 12


def test_a_run_whose_manifest_config_was_edited_is_redone_not_skipped(study, tmp_path):
    """Found by the campaign (benchmarks/campaign.py): a sweep run again skipped such a run (its manifest's hash and
    files still matched), then its collation failed (exit 4); the skip check now asks the config to give its hash."""
    from sim.runs.outputs import check_run

    d = tmp_path / "S"
    shutil.copytree(study, d)
    digest = read_json(d / "seed=1" / "manifest.json")["config_hash"]
    assert check_run(d / "seed=1", digest) is None
    _damage("edited_config", d)
    assert "config does not give its config hash" in check_run(d / "seed=1", digest)
    settings, names = _study(3)
    runs = run_many(settings, d, n_jobs=1, names=names, progress=False)
    assert sorted(runs["status"]) == ["done", "skipped", "skipped"] and verify(d) == []
