"""Issue 30's measurements: a district or city on one and on all cores, and a study's throughput, each with its CPU
time beside its wall time (so that a figure taken on a busy machine still says what the work cost).

    python -m benchmarks.speed district --district enyang_like --processes 1,2 [--write]
    python -m benchmarks.speed district --district city --sample 40 --processes 2 [--write]
    python -m benchmarks.speed study --runs 400 --jobs 2 [--write]

Each case runs in a fresh subprocess (``python -m sim`` for a district, ``sim.runs.runner.run_many`` for a
study), timed as a whole command: wall time; CPU time of the command and every process it started (user + system,
from ``getrusage(RUSAGE_CHILDREN)``); peak memory as the sum of the largest resident sizes of the command and of
its largest child (an upper bound of the memory the run held at once).  ``--sample K`` runs 1/K of a district:
every preset's count divided by K (rounded, at least 1), to measure a city's cost per community without its
hours.  ``--write`` puts the table into ``benchmarks/results.md`` (its own section, with the load average before
and after).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.md"
STUDY_POLICIES = ("baseline", "five_society", "gov_purchase", "micro_fund")
STUDY_RUNS, STUDY_HOURS = 100_000, 1.0  # issue 30's study: 100,000 runs within an hour


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc), MB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


def _measure(cmd: list[str]) -> dict:
    """Run ``cmd`` from the repository; its wall time, CPU time (the command and its children) and peak memory (the
    largest sum, polled every 0.1 s, of the resident memory of the command and of every process under it)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    peak = 0.0
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, text=True)
        while proc.poll() is None:
            peak = max(peak, _tree_rss_mb(proc.pid))
            time.sleep(0.1)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stdout[-2000:]}\n{stderr[-4000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "peak_mb": peak, "load_before": load, "load_after": os.getloadavg()[0]}


def _district_members(name: str, sample: int) -> tuple[list[dict], int, int]:
    """The district's communities (divided by ``sample``), their number and residents."""
    from sim.settings.config import load_community_preset, settings_for

    district = settings_for(f"district={name}").district
    members = [{"preset": m.preset, "count": max(1, round(m.count / sample))} for m in district.communities]
    communities = sum(m["count"] for m in members)
    residents = sum(load_community_preset(m["preset"]).residents * m["count"] for m in members)
    return members, communities, residents


def district_case(name: str, processes: int, sample: int, steps: int, warmup: int) -> dict:
    members, communities, residents = _district_members(name, sample)
    listing = "[" + ",".join(f"{{preset: {m['preset']}, count: {m['count']}}}" for m in members) + "]"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "sim", f"district={name}", "policy=five_society", f"processes={processes}",
               f"steps={steps}", f"warmup_weeks={warmup}", "progress=false", f"hydra.run.dir={tmp}/run"]
        if sample > 1:
            cmd.insert(4, f"district.communities={listing}")
        r = _measure(cmd)
        outputs = sorted(p.name for p in Path(tmp, "run").iterdir())
    r.update(district=name, sample=sample, communities=communities, residents=residents, processes=processes,
             weeks=warmup + steps, outputs=outputs)
    return r


def study_case(runs: int, jobs: int, steps: int, how: str = "run_many", community: str = "relocation") -> dict:
    """A study shaped like a 100,000-run uncertainty study, sampled: ``runs`` runs of ``community``, the four
    policies × seeds, outputs written and collated; through ``run_many`` (each seed's warm-up shared by its
    policies) or a Hydra multirun (joblib launcher, ``python -m sim -m``)."""
    with tempfile.TemporaryDirectory() as tmp:
        if how == "hydra":
            cmd = [sys.executable, "-m", "sim", "-m", f"community={community}", f"steps={steps}",
                   f"policy={','.join(STUDY_POLICIES)}", f"seed=range(0,{runs // len(STUDY_POLICIES)})",
                   f"hydra.launcher.n_jobs={jobs}", f"hydra.sweep.dir={tmp}/sw"]
        else:
            cmd = [sys.executable, "-m", "benchmarks.run", "--many", str(runs), "--jobs", str(jobs), "--out",
                   f"{tmp}/sw", "--policies", ",".join(STUDY_POLICIES), "--", f"community={community}",
                   f"steps={steps}"]
        r = _measure(cmd)
        done = len(list(Path(tmp, "sw").glob("*/manifest.json")))
    if done != runs:
        raise RuntimeError(f"the study finished {done} of {runs} runs")
    r.update(how=how, community=community, runs=runs, jobs=jobs, steps=steps, runs_per_min=runs / r["wall_s"] * 60,
             cpu_ms_per_run=r["cpu_s"] / runs * 1000)
    return r


def cores_for(cpu_ms_per_run: float, runs: int = STUDY_RUNS, hours: float = STUDY_HOURS) -> int:
    """Cores a study of ``runs`` runs needs to end within ``hours``, at this CPU time a run (run_many scales with
    cores: 1.99× on 2, benchmarks/results.md), rounded up."""
    return math.ceil(runs * cpu_ms_per_run / 1000 / (hours * 3600))


def _write(key: str, lines: list[str]) -> None:
    """Replace the section ``key`` of benchmarks/results.md (added at the end the first time)."""
    begin, end = f"<!-- BEGIN speed-{key} -->", f"<!-- END speed-{key} -->"
    text = RESULTS.read_text(encoding="utf-8")
    section = "\n".join([begin, *lines, end])
    if begin in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    d = sub.add_parser("district", help="a district (or a sample of it) on 1 and on more processes")
    d.add_argument("--district", default="enyang_like", help="a district preset (configs/district/)")
    d.add_argument("--processes", default="1,2", help="comma-separated process counts to compare")
    d.add_argument("--sample", type=int, default=1, help="run 1/K of the district's communities (default 1: all)")
    d.add_argument("--steps", type=int, default=260)
    d.add_argument("--warmup", type=int, default=208)
    s = sub.add_parser("study", help="a study's runs per minute through run_many")
    s.add_argument("--runs", type=int, default=400)
    s.add_argument("--jobs", type=int, default=2)
    s.add_argument("--steps", type=int, default=260)
    s.add_argument("--how", choices=("run_many", "hydra"), default="run_many",
                   help="through sim.runs.runner.run_many (what the studies use) or a Hydra multirun")
    c = sub.add_parser("presets", help="a study of each community preset through run_many: CPU a run, and the "
                                       "cores a 100,000-run study needs to end within an hour")
    c.add_argument("--runs", type=int, default=80, help="runs per preset (the four policies × runs/4 seeds)")
    c.add_argument("--jobs", type=int, default=2)
    c.add_argument("--steps", type=int, default=260)
    for p in (d, s, c):
        p.add_argument("--write", action="store_true", help="record the table in benchmarks/results.md")
    args = ap.parse_args(argv)
    lines: list[str] = []
    if args.what == "district":
        try:
            counts = [int(x) for x in args.processes.split(",")]
        except ValueError:
            ap.error(f"--processes={args.processes!r}: give whole numbers separated by commas, e.g. 1,2")
        rows = [district_case(args.district, n, args.sample, args.steps, args.warmup) for n in counts]
        r0 = rows[0]
        scale = f"1/{args.sample} of " if args.sample > 1 else ""
        lines += [f"### District `{args.district}` ({scale}{r0['communities']:,} communities, {r0['residents']:,} "
                  f"residents, {args.warmup} + {args.steps} weeks, five_society)", "",
                  "| processes | wall s | CPU s | peak memory (MB, all processes) | load before → after |",
                  "|---:|---:|---:|---:|---|"]
        for r in rows:
            lines.append(f"| {r['processes']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_mb']:.0f} | "
                         f"{r['load_before']:.1f} → {r['load_after']:.1f} |")
            print(json.dumps(r))
        if args.sample > 1:
            cpu_per = r0["cpu_s"] / r0["residents"]
            full = _district_members(args.district, 1)[2]
            lines += ["", f"Extrapolated to the whole district ({full:,} residents) by residents: "
                          f"{cpu_per * full / 60:.0f} min of CPU; on {max(counts)} processes ≥ "
                          f"{cpu_per * full / max(counts) / 60:.0f} min of wall time."]
    elif args.what == "presets":
        from sim.settings.config import community_presets, settings_for

        lines += [f"### A study of each community preset: {args.runs} runs ({', '.join(STUDY_POLICIES)} × "
                  f"{args.runs // 4} seeds, {args.steps} weeks after the warm-up, outputs written and collated), "
                  f"run_many on {args.jobs} processes", "",
                  "| community | residents | CPU ms a run | runs/min here (wall) | load before → after | "
                  f"{STUDY_RUNS:,} runs here | cores for {STUDY_RUNS:,} runs in {STUDY_HOURS:g} h |",
                  "|---|---:|---:|---:|---|---:|---:|"]
        for name in community_presets():
            residents = settings_for(f"community={name}").community.residents
            r = study_case(args.runs, args.jobs, args.steps, community=name)
            print(json.dumps(r))
            lines.append(f"| {name} | {residents:,} | {r['cpu_ms_per_run']:.0f} | {r['runs_per_min']:.0f} | "
                         f"{r['load_before']:.1f} → {r['load_after']:.1f} | "
                         f"{STUDY_RUNS / r['runs_per_min'] / 60:.1f} h | {cores_for(r['cpu_ms_per_run'])} |")
    else:
        r = study_case(args.runs, args.jobs, args.steps, args.how)
        print(json.dumps(r))
        lines += [f"### Study: {args.runs} relocation runs ({', '.join(STUDY_POLICIES)} × {args.runs // 4} seeds, "
                  f"{args.steps} weeks after the 208-week warm-up, outputs written and collated), "
                  f"{'run_many' if args.how == 'run_many' else 'a Hydra multirun (joblib launcher)'} on "
                  f"{args.jobs} processes", "",
                  "| runs/min (wall) | CPU ms a run | wall s | CPU s | load before → after | 100,000 runs |",
                  "|---:|---:|---:|---:|---|---:|",
                  f"| {r['runs_per_min']:.0f} | {r['cpu_ms_per_run']:.0f} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                  f"{r['load_before']:.1f} → {r['load_after']:.1f} | {100_000 / r['runs_per_min'] / 60:.1f} h |"]
    print("\n".join(lines))
    if args.write:
        key = {"district": lambda: f"district-{args.district}-{args.sample}", "presets": lambda: "study-presets",
               "study": lambda: f"study-{args.how}"}[args.what]()
        _write(key, ["", f"Written by `python -m benchmarks.speed {' '.join(argv or sys.argv[1:])}` on "
                    f"{time.strftime('%Y-%m-%d %H:%M')}.", "", *lines, ""])
    return 0


if __name__ == "__main__":
    sys.exit(main())
