"""Collate a sweep into two tables: ``python -m sim.runs.collate <sweep_dir>``.

* ``runs.parquet`` — one row per run: the swept parameters as columns (``policy``, ``seed``,
  ``policy.micro_fund.fen_per_unit``, …), ``community``, ``policy``, ``seed``; a parameter some runs
  set and others did not (sweeps appended into one folder) holds, for the others, the value their
  resolved config used (0 fen where no one-cent charity runs), never a gap; the status
  (``done``, ``skipped`` = complete from an earlier attempt, ``failed``) with the error and its cause
  (``exception``, ``signal``, ``exit``, ``time_limit``, ``memory_limit``; see :mod:`sim.runs.isolation`), the config
  hash, the wall time and the final KPIs.
* ``timeseries.parquet`` — long format: ``run``, ``step``, ``indicator``, ``value`` (a district's runs also
  ``community_id``: its weekly table per community, with ``community_id`` -1 for the district's own table).

Load a whole sweep with one call: ``pd.read_parquet("<sweep_dir>/runs.parquet")``.
Both files are written to temporary files and renamed, so a failed collation leaves the old
tables (or none), never half a table.

Every sweep and study records its plan before it starts (``sweep.json``: the number of jobs and, as
far as known, each job's name and config hash; :mod:`sim.runs.sweep`, :func:`sim.runs.runner.run_many`).  A
folder is checked against it before anything is collated (:func:`inspect`):

* a planned run without a folder (never started), or a folder without a manifest (never finished);
* a failed job (its recorded error); an unreadable ``status.json``;
* a manifest that is unreadable, lacks a field, records no sizes and checksums (written by an older
  version), is of another config than planned, or whose config does not give its own config hash;
  an output file whose size or SHA-256 no longer matches the manifest;
* a folder that is not in the plan, or a copy of another run's folder (two folders claiming one job);
* no plan at all, or an unreadable one.

Plain collation refuses a folder with any of these (exit 1, naming each run and why), unless it is
told to leave them out with ``--skip-bad`` (``skip_bad=True``): they are then rows with status
``failed``, ``corrupt`` or ``missing`` and the reason in ``error``, and the table records it
(``runs.attrs["collate"]``, kept in the Parquet file: ``{"skip_bad": true, "left_out": […]}``).
A sweep's end and :func:`sim.runs.runner.run_many` collate that way, since they report the failures themselves.

``python -m sim.runs.collate --verify <sweep_dir>`` only checks: all of the above, and that the collated
tables (if any) are readable and list the runs the folder holds.  It lists each bad run with the
reason and exits 1 if there is any, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.runs.outputs import (
    COLLATED_TIMESERIES_FILE,
    DISTRICT_TIMESERIES_FILE,
    KPIS_FILE,
    MANIFEST_FILE,
    RUNS_FILE,
    STATUS_FILE,
    SWEEP_FILE,
    TIMESERIES_FILE,
    check_run,
    config_hash_of_plain,
    read_json,
    write_atomic,
)

READ_THREADS = 4  # run folders read at once by collate()
OVERRIDDEN = "__overridden"  # a row's keys set by an override, while the rows are read (not a column)
CONFIG = "__config"  # a row's resolved config, while the rows are read (not a column)
MANIFEST_KEYS = ("config_hash", "config", "overrides", "policy", "seed", "outputs")
DISTRICT_ID = -1  # community_id of a district's own weekly table in the collated long table
EXIT_BAD = 1      # python -m sim.runs.collate: a bad run (named), or a folder that cannot be read


class CollateError(RuntimeError):
    """A sweep folder that cannot be collated (the message names the file or the runs)."""


@dataclass
class Inspection:
    """What :func:`inspect` found in a sweep folder.

    ``jobs``: each run folder to collate with (its status if bad, the reason) or None if it is intact;
    ``missing``: (planned run, reason) for runs with no folder to collate; ``plan``: problems with
    ``sweep.json`` itself (none, unreadable)."""

    jobs: list[tuple[Path, tuple[str, str] | None]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    plan: list[tuple[str, str]] = field(default_factory=list)

    def bad(self) -> list[tuple[str, str]]:
        """Every problem as (run folder or file, reason), in the folders' order."""
        return [*self.plan, *((job.name, found[1]) for job, found in self.jobs if found is not None),
                *self.missing]


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CollateError(f"corrupt or unreadable file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CollateError(f"corrupt file {path}: not a JSON object")
    return data


def _parse_override(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    key = key.lstrip("+~")
    try:
        parsed: object = json.loads(value)
    except ValueError:
        parsed = value
    return key, parsed


def _resolved_value(config: dict, key: str, default: object) -> object:
    """The value of dotted ``key`` in a run's resolved config, or ``default`` if it is not a leaf there."""
    node: object = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return default if isinstance(node, dict | list) else node


def read_plan(sweep_dir: str | os.PathLike) -> tuple[dict | None, str | None]:
    """The sweep's plan (``sweep.json``) and None, or None and why it cannot be used."""
    path = Path(sweep_dir) / SWEEP_FILE
    if not path.exists():
        return None, (f"no {SWEEP_FILE}: the plan of this folder is unknown, so runs that never started "
                      "cannot be told (re-run the sweep or study into it to record one)")
    plan = read_json(path)
    if not isinstance(plan, dict) or not isinstance(plan.get("jobs", 0), int | None):
        return None, f"{SWEEP_FILE} is unreadable or damaged (the plan of this folder is unknown)"
    runs = plan.get("runs")
    if runs is not None and not (isinstance(runs, dict) and all(isinstance(k, str) for k in runs)):
        return None, f"{SWEEP_FILE} is damaged: its runs are not a table of names"
    return plan, None


def _candidate_dirs(sweep_dir: Path, planned: dict | None) -> list[Path]:
    """Run folders: those holding a manifest or a status, and planned runs' folders that exist."""
    dirs = {p.parent for p in sweep_dir.glob(f"*/{MANIFEST_FILE}")}
    dirs |= {p.parent for p in sweep_dir.glob(f"*/{STATUS_FILE}")}
    for name in planned or {}:
        if (sweep_dir / name).is_dir():
            dirs.add(sweep_dir / name)
    return sorted(dirs)


def _job_problem(job: Path, digest: str | None) -> tuple[str, str] | None:
    """(status, reason) if run folder ``job`` is not a done, intact run (of config ``digest`` if given), else None."""
    status = None
    if (job / STATUS_FILE).exists():
        status = read_json(job / STATUS_FILE)
        if not isinstance(status, dict) or not isinstance(status.get("status"), str):
            return "corrupt", f"{STATUS_FILE} is unreadable or damaged"
        if status["status"] == "failed":
            return "failed", f"failed: {status.get('error', 'no error recorded')}"
    if not (job / MANIFEST_FILE).exists():
        if status is None:
            return "missing", "no manifest and no status (the run never finished)"
        return "corrupt", "no manifest (the run did not finish)"
    manifest = read_json(job / MANIFEST_FILE)
    if not isinstance(manifest, dict):
        return "corrupt", f"{MANIFEST_FILE} is unreadable"
    lacking = [k for k in MANIFEST_KEYS if k not in manifest]
    if "outputs" in lacking:
        return "corrupt", (f"{MANIFEST_FILE} records no sizes and checksums of the output files "
                           "(written by an older version, or damaged): its files cannot be vouched for")
    if lacking:
        return "corrupt", f"{MANIFEST_FILE} lacks {', '.join(lacking)}"
    problem = check_run(job, digest)
    if problem is not None:
        return "corrupt", problem
    try:
        consistent = config_hash_of_plain(manifest["config"]) == manifest["config_hash"]
    except (TypeError, ValueError, AttributeError):
        consistent = False
    if not consistent:
        return "corrupt", f"{MANIFEST_FILE}'s config does not give its config hash (edited after the run)"
    return None


def _claimed_name(job: Path) -> str:
    """The job a run folder holds: the name its status records (a renamed folder keeps it), else its folder name."""
    status = read_json(job / STATUS_FILE)
    name = status.get("job") if isinstance(status, dict) else None
    return name if isinstance(name, str) and name else job.name


def inspect(sweep_dir: str | os.PathLike) -> Inspection:
    """Check every run folder of ``sweep_dir`` and the folder against its plan (see the module's description)."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise CollateError(f"no such sweep folder: {sweep_dir}")
    found = Inspection()
    plan, plan_problem = read_plan(sweep_dir)
    if plan_problem is not None:
        found.plan.append((SWEEP_FILE, plan_problem))
    planned: dict | None = plan.get("runs") if plan is not None else None
    dirs = _candidate_dirs(sweep_dir, planned)
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:  # hashing the files releases the GIL
        problems = list(pool.map(lambda j: _job_problem(j, (planned or {}).get(_claimed_name(j))), dirs))
    claims: dict[str, list[Path]] = defaultdict(list)
    for job in dirs:
        claims[_claimed_name(job)].append(job)
    for job, problem in zip(dirs, problems, strict=True):
        name = _claimed_name(job)
        holders = claims[name]
        if problem is None and len(holders) > 1:
            original = next((h for h in holders if h.name == name), holders[0])
            if job != original:
                problem = ("corrupt", f"a copy of run {original.name} (its {STATUS_FILE} names that job): "
                                      "it would be counted twice")
        if problem is None and planned is not None and name not in planned:
            problem = ("corrupt", f"not in the plan ({SWEEP_FILE}): a run folder of another sweep, or a copy")
        found.jobs.append((job, problem))
    if planned is not None:
        for name in planned:
            if name not in claims:
                found.missing.append((name, "planned, but no run folder (never started)"))
    elif plan is not None and isinstance(plan.get("jobs"), int) and plan["jobs"] > len(claims):
        found.missing.append((f"{plan['jobs'] - len(claims)} job(s)", "no run folder (never started)"))
    return found


def collate(sweep_dir: str | os.PathLike, skip_bad: bool = False, *, skip_corrupt: bool | None = None,
            write: bool = True, warn: bool = True) -> pd.DataFrame:
    """Write runs.parquet and timeseries.parquet for ``sweep_dir``; returns the runs table.

    Raises :class:`CollateError` naming every bad run (see the module's description) unless ``skip_bad``,
    which records them as rows without KPIs and says so in the table (``attrs["collate"]``).
    ``skip_corrupt`` is the former name of ``skip_bad``.  ``write=False``: only return the table; ``warn``:
    name each run left out on stderr.
    """
    if skip_corrupt is not None:
        skip_bad = skip_bad or skip_corrupt
    sweep_dir = Path(sweep_dir)
    found = inspect(sweep_dir)
    if not found.jobs and not found.missing:
        raise CollateError(f"{sweep_dir} holds no runs (no */{MANIFEST_FILE} or */{STATUS_FILE})")
    bad = found.bad()
    if bad and not skip_bad:
        listed = "; ".join(f"{name}: {reason}" for name, reason in bad[:5])
        more = f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise CollateError(f"{len(bad)} bad run(s) in {sweep_dir}: {listed}{more} (python -m sim.runs.collate --verify "
                           f"lists them all; re-run the sweep into the same folder to redo them, or collate with "
                           f"--skip-bad to leave them out)")
    rows, series = [], []
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        results = list(pool.map(_read_or_error, found.jobs))
    for run_id, ((job, problem), (result, exc)) in enumerate(zip(found.jobs, results, strict=True)):
        if exc is not None:  # a file that changed between the check and the reading
            if not skip_bad:
                raise exc
            problem = ("corrupt", str(exc))
            bad.append((job.name, str(exc)))
            result = (_bad_row(job, problem), None)
        row, tables = result
        rows.append({"run": run_id, **row})
        series += [(run_id, table) for table in tables or ()]
    for name, reason in found.missing:
        rows.append({"run": len(rows), "run_dir": name, "status": "missing", "error": reason})
    fill_effective_values(rows)
    runs = pd.DataFrame(rows)
    first = [c for c in ("run", "run_dir", "status", "community", "policy", "seed") if c in runs.columns]
    runs = runs[first + [c for c in runs.columns if c not in first]]
    if skip_bad:
        runs.attrs["collate"] = {"skip_bad": True, "left_out": [f"{name}: {reason}" for name, reason in bad]}
    if write:
        write_atomic(sweep_dir / RUNS_FILE, runs)
        write_atomic(sweep_dir / COLLATED_TIMESERIES_FILE, _long_table(series))
    for name, reason in bad if warn else ():
        print(f"warning: left out {name}: {reason}", file=sys.stderr)
    return runs


def fill_effective_values(rows: list[dict]) -> None:
    """Give every run a value for each parameter any run set by an override: the value its resolved config
    used (e.g. 0 fen per unit of the one-cent lever for a baseline run of a folder into which a one-cent sweep
    was appended).  Runs without a resolved config (failed before their manifest, missing) keep the gap."""
    keys = list(dict.fromkeys(k for row in rows for k in row.get(OVERRIDDEN, ())))
    for row in rows:
        row.pop(OVERRIDDEN, None)
        config = row.pop(CONFIG, None)
        for key in keys:
            if key not in row and config:
                value = _resolved_value(config, key, None)
                if value is not None:
                    row[key] = value


def _bad_row(job: Path, problem: tuple[str, str]) -> dict:
    """The row of a run left out: its folder, status (failed or corrupt), the reason, and what its status says."""
    status = read_json(job / STATUS_FILE)
    status = status if isinstance(status, dict) else {}
    row: dict = {"run_dir": job.name, "status": problem[0],
                 "error": status.get("error", problem[1]) if problem[0] == "failed" else problem[1]}
    if problem[0] == "failed":
        row["cause"] = status.get("cause")  # exception, signal, exit, time_limit or memory_limit
    overrides = status.get("overrides")
    if not isinstance(overrides, list):
        overrides = [o for o in job.name.split(",") if "=" in o]
    for o in overrides:
        key, value = _parse_override(str(o))
        if not key.startswith(("hydra.", "sweep.")):
            row.setdefault(key, value)
            if key in ("community", "policy", "seed"):
                row[key] = value
    return row


def _long_table(series: list[tuple[int, pa.Table]]) -> pd.DataFrame:
    """The weekly tables of the runs in long format: run, step, indicator, value (one row per run, indicator, week).

    Rows come run by run, and within a run indicator by indicator in the table's column order, as
    ``DataFrame.melt`` orders them; built from the column arrays directly (a melt per run costs
    more than the rest of the collation).  A district's run brings several weekly tables (one per
    community, with ``community_id``, and the district's own): its rows carry ``community_id`` (the
    district's own :data:`DISTRICT_ID`), and text columns (a community's name) are not indicators.
    """
    with_community = any("community_id" in table.column_names for _, table in series)
    if not series:
        return pd.DataFrame({"run": pd.Series(dtype="int32"), "step": pd.Series(dtype="int32"),
                             "indicator": pd.Series(dtype="category"), "value": pd.Series(dtype="float64")})

    def numeric(kind: pa.DataType) -> bool:
        return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) \
            or pa.types.is_null(kind)

    def indicators(table: pa.Table) -> list[str]:
        return [c for c in table.column_names
                if c not in ("step", "community_id") and numeric(table.schema.field(c).type)]

    # the indicator column as category codes from the start (the categories sorted, as pd.Categorical sorts
    # them): building it from millions of repeated strings took a third of the collation
    categories = sorted({c for _, table in series for c in indicators(table)})
    code_of = {c: i for i, c in enumerate(categories)}
    runs, steps, codes, values, communities = [], [], [], [], []
    for run_id, table in series:
        cols = indicators(table)
        step = table.column("step").to_numpy()
        runs.append(np.full(len(step) * len(cols), run_id, dtype="int32"))
        steps.append(np.tile(step.astype("int32"), len(cols)))
        codes.append(np.repeat(np.array([code_of[c] for c in cols], dtype=np.int32), len(step)))
        values += [np.asarray(table.column(c).to_numpy(zero_copy_only=False), dtype="float64") for c in cols]
        if with_community:
            ids = (table.column("community_id").to_numpy().astype("int32") if "community_id" in table.column_names
                   else np.full(len(step), DISTRICT_ID, dtype="int32"))
            communities.append(np.tile(ids, len(cols)))
    indicator = pd.Categorical.from_codes(np.concatenate(codes), categories=categories)
    out = {"run": np.concatenate(runs), "step": np.concatenate(steps), "indicator": indicator,
           "value": np.concatenate(values) if values else np.empty(0)}
    if with_community:
        out = {"run": out["run"], "community_id": np.concatenate(communities), **{k: out[k] for k in
                                                                                  ("step", "indicator", "value")}}
    return pd.DataFrame(out)


def _read_or_error(item: tuple[Path, tuple[str, str] | None]
                   ) -> tuple[tuple[dict, list[pa.Table] | None] | None, CollateError | None]:
    job, problem = item
    if problem is not None:
        return (_bad_row(job, problem), None), None
    try:
        return _read_job(job), None
    except CollateError as exc:
        return None, exc


def _read_job(job: Path) -> tuple[dict, list[pa.Table]]:
    """The row and weekly tables of an intact run (checked by :func:`inspect`): a community's one, a district's
    two (per community, with ``community_id``, and the district's own)."""
    status = _read_json(job / STATUS_FILE) if (job / STATUS_FILE).exists() else {}
    manifest = _read_json(job / MANIFEST_FILE)
    row: dict = {"run_dir": job.name, "status": status.get("status", "done")}
    resolved = manifest.get("config", {})
    row[CONFIG] = resolved
    row.update(community=manifest.get("community"), policy=manifest["policy"], seed=manifest["seed"],
               config_hash=manifest["config_hash"], wall_time_s=manifest.get("wall_time_s"))
    if manifest.get("district") is not None:
        row["district"] = manifest["district"]  # a district of communities (its row's community is None)
    for o in manifest.get("overrides", []):
        key, value = _parse_override(str(o))
        if not key.startswith(("hydra.", "sweep.")):  # how the sweep ran, not what a run computed
            # a parameter's column holds the value the run used (an override such as seed=${steps} is
            # only resolved in the job: the manifest's config has the value)
            value = _resolved_value(resolved, key, value)
            row.setdefault(key, value)
            row.setdefault(OVERRIDDEN, []).append(key)
            if key in ("community", "policy", "seed"):
                row[key] = value
    kpis = _read_json(job / KPIS_FILE)
    for key, item in kpis.get("targets", {}).items():
        row[key] = item.get("value") if isinstance(item, dict) else item
    for key, value in kpis.get("totals", {}).items():
        row[key] = value
    try:
        tables = []
        for name in (TIMESERIES_FILE, DISTRICT_TIMESERIES_FILE):
            if name in manifest["outputs"]:
                with pq.ParquetFile(job / name) as file:
                    tables.append(file.read(use_threads=False))  # a small file: threads would cost more
    except Exception as exc:
        raise CollateError(f"corrupt or unreadable file in {job}: {exc}") from None
    return row, tables


def _check_tables(sweep_dir: Path, folders: list[str]) -> list[tuple[str, str]]:
    """Problems of the collated tables, if there are any: unreadable, or listing other runs than the folder holds."""
    bad = []
    if (sweep_dir / RUNS_FILE).exists():
        try:
            listed = pq.read_table(sweep_dir / RUNS_FILE, columns=["run_dir", "status"]).to_pandas()
        except Exception as exc:
            bad.append((RUNS_FILE, f"unreadable ({str(exc).splitlines()[0][:120]}): collate again"))
        else:
            ours = set(listed.loc[listed["status"] != "missing", "run_dir"])
            new, gone = sorted(set(folders) - ours), sorted(ours - set(folders))
            parts = [f"{len(names)} run folder(s) {what} ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})"
                     for names, what in ((new, "not in it"), (gone, "listed that are gone")) if names]
            if parts:
                bad.append((RUNS_FILE, f"out of date: {'; '.join(parts)}; collate again"))
    if (sweep_dir / COLLATED_TIMESERIES_FILE).exists():
        try:
            pq.read_metadata(sweep_dir / COLLATED_TIMESERIES_FILE)
        except Exception as exc:
            bad.append((COLLATED_TIMESERIES_FILE, f"unreadable ({str(exc).splitlines()[0][:120]}): collate again"))
    return bad


def verify(sweep_dir: str | os.PathLike) -> list[tuple[str, str]]:
    """Every problem of the sweep as (run folder or file, reason); empty if every planned run is done and intact.

    See the module's description for what is checked; the collated tables, if there are any, must also be
    readable and list the run folders the sweep folder holds.
    """
    sweep_dir = Path(sweep_dir)
    found = inspect(sweep_dir)
    return [*found.bad(), *_check_tables(sweep_dir, [job.name for job, _ in found.jobs])]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.runs.collate",
                                 description="Collate a sweep folder into runs.parquet and timeseries.parquet. "
                                             "Exit status: 0 collated (or verified), 1 a bad run or an unreadable "
                                             "folder (each named).")
    ap.add_argument("sweep_dir", help="the sweep's folder (hydra.sweep.dir)")
    ap.add_argument("--skip-bad", "--skip-corrupt", dest="skip_bad", action="store_true",
                    help="collate what is intact and record failed, damaged and missing runs as rows with their "
                         "reason instead of refusing (written into runs.parquet: attrs 'collate')")
    ap.add_argument("--verify", action="store_true",
                    help="only check every run against the plan and its manifest; exit 1 naming bad runs")
    args = ap.parse_args(argv)
    try:
        if args.verify:
            return _report_verification(Path(args.sweep_dir))
        runs = collate(args.sweep_dir, skip_bad=args.skip_bad)
    except CollateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD
    except OSError as exc:
        print(f"error: cannot write the tables into {args.sweep_dir}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD
    counts = runs["status"].value_counts().to_dict()
    print(f"collated {len(runs)} runs ({', '.join(f'{v} {k}' for k, v in counts.items())}) into "
          f"{Path(args.sweep_dir) / RUNS_FILE} and {Path(args.sweep_dir) / COLLATED_TIMESERIES_FILE}"
          + (" (--skip-bad: bad runs left out, recorded in the table)" if args.skip_bad else ""))
    return 0


def _report_verification(sweep_dir: Path) -> int:
    bad = verify(sweep_dir)
    total = len(inspect(sweep_dir).jobs)
    if not bad:
        print(f"verified: all {total} runs in {sweep_dir} are done, planned and match their manifests")
        return 0
    print(f"{len(bad)} bad run(s) in {sweep_dir} ({total} run folders):", file=sys.stderr)
    for name, reason in bad:
        print(f"  {name}: {reason}", file=sys.stderr)
    return EXIT_BAD


if __name__ == "__main__":
    sys.exit(main())
