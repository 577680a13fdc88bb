"""Benchmarks of the real code path: ``python -m benchmarks.run [--quick]``.

Each case runs in a fresh subprocess (so its peak memory is its own) and times model
construction + run + writing outputs, excluding interpreter start-up.  Prints a table (scenario,
residents, weeks, seconds, resident-weeks per second, peak memory, speed-up over the per-agent
reference), checks the targets of the speed-and-scale issue, and writes ``benchmarks/results.md``
with the machine description and ``benchmarks/scaling.png`` (time vs residents, log–log).

Targets checked:
* one ``urban_traditional`` community (12,000 residents), ``five_society``, 260 weeks: < 1 s;
* a district of 40 communities (~390,000 residents), 260 weeks: < 60 s and < 4 GB peak memory;
* time per resident-week from 1,000 to 400,000 residents varies by less than a factor of 2;
* at least 20 × faster than the per-agent Mesa reference (benchmarks/reference_model.py);
* a sweep (:func:`sim.runs.runner.run_many`) on 2 cores runs at least 1.8 × as many runs per minute as on 1;
* ``run_many`` runs at least 3 × as many runs per minute as a Hydra multirun of the same 200 runs
  (``community=relocation``, 260 weeks, 2 cores), each over the whole command.

``--only CASE`` runs one case and rewrites only its section of ``benchmarks/results.md``
(cases: urban, reference, district, scaling, sweep, run_many_vs_hydra; only the last two have a
section of their own).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

URBAN_PER_CAPITA = {"enterprises": 20, "professional_agencies": 1, "self_organisations": 2}  # per 12,000


def scaled_overrides(residents: int) -> list[str]:
    """An urban community of ``residents`` with the urban preset's structure per resident."""
    f = residents / 12_000
    out = [f"community.residents={residents}", f"community.households={residents // 4}"]
    out += [f"community.{k}={max(1 if k == 'enterprises' else 0, round(v * f))}" for k, v in URBAN_PER_CAPITA.items()]
    return out


# ------------------------------------------------------------------------------------------------
# one case, in this process (called in a subprocess by the driver)
# ------------------------------------------------------------------------------------------------
def run_case(kind: str, overrides: list[str]) -> dict:
    from sim.runs.runner import run
    from sim.settings.config import settings_for

    settings = settings_for("progress=false", *overrides)
    if kind == "reference":
        from benchmarks.reference_model import run_reference

        start, cpu = time.perf_counter(), time.process_time()
        run_reference(settings)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    else:
        with tempfile.TemporaryDirectory() as tmp:
            start, cpu = time.perf_counter(), time.process_time()
            run(settings, tmp, progress=False)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    loop = None
    if kind == "model" and settings.district is None:  # the weekly loop alone, for the scaling series
        from sim.model.community_model import CommunityModel

        model = CommunityModel(settings)
        start = time.perf_counter()
        model.run(progress=False)
        loop = time.perf_counter() - start
    if settings.district is not None:
        from sim.settings.config import load_community_preset

        residents = sum(load_community_preset(m.preset).residents * m.count for m in settings.district.communities)
    else:
        residents = settings.community.residents
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # weeks simulated: the warm-up (not recorded) and the recorded weeks
    return {"seconds": seconds, "cpu_seconds": cpu, "loop_seconds": loop, "residents": residents,
            "weeks": settings.warmup_weeks + settings.steps, "recorded": settings.steps,
            "warmup": settings.warmup_weeks, "peak_mb": peak_kib / 1024}


def case(kind: str, overrides: list[str], repeat: int = 1) -> dict:
    """Run a case ``repeat`` times in fresh subprocesses; keep the fastest (and the largest peak)."""
    results = []
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--case", kind, "--", *overrides],
                              cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"benchmark case {kind} {overrides} failed:\n{proc.stderr}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    best = min(results, key=lambda r: r["seconds"])
    best["peak_mb"] = max(r["peak_mb"] for r in results)
    best["rw_per_s"] = best["residents"] * best["weeks"] / best["seconds"]
    return best


def run_seeds(runs: int, n_jobs: int, out: str, overrides: list[str], policies: list[str] | None = None) -> None:
    """``runs`` runs of one scenario through :func:`sim.runs.runner.run_many` (called in a subprocess by the driver):
    seeds 0…runs-1, or with ``policies`` each policy × seeds 0…runs/len(policies)-1 (policy-major, as Hydra
    orders ``policy=a,b seed=range(…)``)."""
    from sim.runs.runner import run_many
    from sim.settings.config import settings_for, with_values

    if not policies:
        base = settings_for("progress=false", *overrides)
        seeds = range(runs)
        run_many([with_values(base, {"seed": s}) for s in seeds], out, n_jobs,
                 overrides=[[*overrides, f"seed={s}"] for s in seeds])
        return
    seeds = range(runs // len(policies))
    bases = {p: settings_for("progress=false", *overrides, f"policy={p}") for p in policies}
    run_many([with_values(bases[p], {"seed": s}) for p in policies for s in seeds], out, n_jobs,
             overrides=[[*overrides, f"policy={p}", f"seed={s}"] for p in policies for s in seeds])


def per_run_costs(runs: int, overrides: list[str]) -> dict:
    """Milliseconds per run of ``runs`` seeds run one after another, three ways (called in a subprocess).

    ``in_process``: :func:`sim.runs.runner.run` in this process; ``fresh_child``: each run as the only job of
    a child forked for it (:func:`sim.runs.runner.run_job`, as each job of a Hydra multirun); ``reused_child``:
    every run in one job process that runs job after job (:func:`sim.runs.isolation.run_jobs`, as
    :func:`sim.runs.runner.run_many`).  A first run in this process warms its caches for all three.  Each
    way: ``ms`` per run and ``page_faults`` per run (minor faults of the process that ran it).
    """
    from sim.runs.isolation import Job, run_jobs
    from sim.runs.runner import run, run_job
    from sim.settings.config import settings_for, with_values

    base = settings_for("progress=false", *overrides)
    settings = [with_values(base, {"seed": s}) for s in range(runs)]
    with tempfile.TemporaryDirectory() as tmp:
        run(settings[0], f"{tmp}/warm", False)
        ways = {
            "in_process": lambda: [run(s, f"{tmp}/a{i}", False) for i, s in enumerate(settings)],
            "fresh_child": lambda: [run_job(s, f"{tmp}/b{i}", f"b{i}") for i, s in enumerate(settings)],
            "reused_child": lambda: list(run_jobs(run, [Job(i, (s, f"{tmp}/c{i}", False, []))
                                                        for i, s in enumerate(settings)])),
        }
        costs = {}
        for way, call in ways.items():
            who = resource.RUSAGE_SELF if way == "in_process" else resource.RUSAGE_CHILDREN
            faults = resource.getrusage(who).ru_minflt
            start = time.perf_counter()
            call()
            costs[way] = {"ms": (time.perf_counter() - start) / runs * 1000,
                          "page_faults": (resource.getrusage(who).ru_minflt - faults) / runs}
    return costs


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children and the children they waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def many_rate(how: str, runs: int, n_jobs: int, overrides: list[str],
              policies: list[str] | None = None) -> tuple[float, float, float]:
    """Runs per minute of ``runs`` runs of one scenario on ``n_jobs`` worker processes, each in a fresh command:
    seeds 0…runs-1, or with ``policies`` each policy × runs/len(policies) seeds.

    ``how`` is ``run_many`` (``python -m benchmarks.run --many``) or ``hydra`` (``python -m sim -m``,
    joblib launcher).  Both write every run's files and collate the folder at the end.  Returns
    (over the whole command, in steady state): the steady-state rate counts the runs finished
    between the first and the last run's completion, leaving out the fixed start-up (interpreter,
    Hydra, worker processes importing the package) that thousands of runs amortise; and the CPU seconds per run
    of the whole command (all its processes: on a busy machine the CPU a run costs, where the wall time is not).
    """
    with tempfile.TemporaryDirectory() as tmp:
        seeds = runs // len(policies) if policies else runs
        policy = [f"policy={','.join(policies)}"] if policies else []
        if how == "hydra":
            cmd = [sys.executable, "-m", "sim", "-m", *overrides, *policy, f"seed=range(0,{seeds})",
                   f"hydra.launcher.n_jobs={n_jobs}", f"hydra.sweep.dir={tmp}/sw"]
        else:
            cmd = [sys.executable, "-m", "benchmarks.run", "--many", str(runs), "--jobs", str(n_jobs),
                   "--out", f"{tmp}/sw", *(["--policies", ",".join(policies)] if policies else []), "--", *overrides]
        start, cpu = time.perf_counter(), children_cpu()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        seconds, cpu = time.perf_counter() - start, children_cpu() - cpu
        if proc.returncode != 0 or f"{runs} done" not in proc.stdout:
            raise RuntimeError(f"{how} benchmark failed:\n{proc.stdout}\n{proc.stderr}")
        done = sorted(p.stat().st_mtime for p in Path(tmp, "sw").glob("*/manifest.json"))
    steady = (len(done) - 1) / (done[-1] - done[0]) * 60 if len(done) > 1 and done[-1] > done[0] else float("nan")
    return runs / seconds * 60, steady, cpu / runs


# ------------------------------------------------------------------------------------------------
# the driver
# ------------------------------------------------------------------------------------------------
def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kib = int(next(x for x in meminfo if x.startswith("MemTotal")).split()[1])
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    from importlib.metadata import version

    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "mesa": version("mesa"), "numpy": version("numpy")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller cases (a smoke test, targets not judged)")
    ap.add_argument("--only", choices=("sweep", "run_many_vs_hydra"),
                    help="run one case and rewrite only its section of benchmarks/results.md")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--many", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--jobs", type=int, default=2, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--policies", help=argparse.SUPPRESS)
    ap.add_argument("--per-run", type=int, help=argparse.SUPPRESS)
    ap.add_argument("overrides", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case, args.overrides)))
        return 0
    if args.many:
        run_seeds(args.many, args.jobs, args.out, args.overrides, args.policies.split(",") if args.policies else None)
        return 0
    if args.per_run:
        print(json.dumps(per_run_costs(args.per_run, args.overrides)))
        return 0
    if args.only:
        return only(args.only, args.quick)

    quick = args.quick
    weeks = 52 if quick else 260
    rows: list[tuple[str, dict]] = []

    def add(name: str, kind: str, overrides: list[str], repeat: int = 1) -> dict:
        r = case(kind, overrides, repeat)
        rows.append((name, r))
        print(f"  {name:<44} {r['seconds']:8.2f} s  {r['rw_per_s'] / 1e6:7.2f} M resident-weeks/s  "
              f"{r['peak_mb']:7.0f} MB", flush=True)
        return r

    print("benchmarks (fresh process per case):", flush=True)
    urban = add("urban_traditional × five_society", "model",
                ["community=urban_traditional", "policy=five_society", f"steps={weeks}"], repeat=3)
    ref_weeks = 13 if quick else 26
    ref = add(f"per-agent reference, urban × five_society ({ref_weeks} wk)", "reference",
              ["community=urban_traditional", "policy=five_society", f"steps={ref_weeks}"])
    speedup = urban["rw_per_s"] / ref["rw_per_s"]
    district = add("district enyang_like × five_society", "model",
                   ["district=small_district" if quick else "district=enyang_like", "policy=five_society",
                    f"steps={weeks}"])
    scaling = []
    sizes = (1_000, 12_000, 50_000) if quick else (1_000, 4_000, 12_000, 50_000, 100_000, 400_000)
    for n in sizes:
        r = add(f"scaling: {n:,} residents × five_society", "model",
                [*scaled_overrides(n), "policy=five_society", f"steps={weeks}"], repeat=2 if n <= 12_000 else 1)
        scaling.append(r)
    per_rw = [r["seconds"] / (r["residents"] * r["weeks"]) for r in scaling]
    spread = max(per_rw) / min(per_rw)
    loop_rw = [r["loop_seconds"] / (r["residents"] * r["weeks"]) for r in scaling]
    loop_spread = max(loop_rw) / min(loop_rw)
    print(f"  time per resident-week {per_rw[0] * 1e6:.3f} → {per_rw[-1] * 1e6:.3f} µs ({spread:.2f}×); weekly loop "
          f"alone {loop_rw[0] * 1e6:.3f} → {loop_rw[-1] * 1e6:.3f} µs ({loop_spread:.2f}×)", flush=True)
    sweep = sweep_case(quick)
    versus = versus_case(quick)

    targets = [
        (f"12,000-resident community, 260 weeks < 1 s (with its {urban['warmup']}-week warm-up)",
         f"{urban['seconds']:.2f} s", urban["seconds"] < 1.0),
        (f"district of 40 communities, 260 weeks < 60 s (with its {district['warmup']}-week warm-up)",
         f"{district['seconds']:.1f} s", district["seconds"] < 60),
        ("district peak memory < 4 GB", f"{district['peak_mb'] / 1024:.2f} GB", district["peak_mb"] < 4096),
        ("time per resident-week, 1,000–400,000 residents: spread < 2×",
         f"{spread:.2f}× ({per_rw[0] * 1e6:.2f} → {per_rw[-1] * 1e6:.3f} µs; weekly loop alone: {loop_spread:.2f}×, "
         f"{loop_rw[0] * 1e6:.2f} → {loop_rw[-1] * 1e6:.3f} µs)", spread < 2.0),
        ("speed-up over the per-agent Mesa reference ≥ 20×", f"{speedup:.0f}×", speedup >= 20),
        sweep_target(sweep),
        *versus_targets(versus),
    ]
    print("\ntargets" + (" (quick run: not judged)" if quick else "") + ":")
    for name, value, ok in targets:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {value}")

    write_results(rows, targets, ref, sweep, versus, scaling, quick)
    return 0 if quick or all(ok for *_, ok in targets) else 1


# ------------------------------------------------------------------------------------------------
# the many-runs cases (each with its own section of results.md)
# ------------------------------------------------------------------------------------------------
VERSUS_OVERRIDES = ["community=relocation", "steps=260"]
SWEEP_HEADING = "## Sweep on 1 and 2 cores"
VERSUS_HEADING = "## run_many vs a Hydra multirun"


def sweep_case(quick: bool) -> tuple:
    jobs, steps = (6, 52) if quick else (240, 260)
    overrides = ["policy=five_society", f"steps={steps}"]
    (wall1, rate1, _), (wall2, rate2, cpu) = (many_rate("run_many", jobs, n, overrides) for n in (1, 2))
    print(f"  run_many of {jobs} runs: {wall1:.1f} runs/min on 1 core, {wall2:.1f} on 2 ({wall2 / wall1:.2f}×) over "
          f"the whole command; {rate1:.1f} vs {rate2:.1f} in steady state ({rate2 / rate1:.2f}×)", flush=True)
    return wall1, wall2, rate1, rate2, jobs, steps, cpu


def sweep_target(sweep: tuple) -> tuple[str, str, bool]:
    wall1, wall2, rate1, rate2, *_ = sweep
    return ("sweep (run_many) on 2 cores ≥ 1.8 × the runs per minute on 1 (steady state)",
            f"{rate2 / rate1:.2f}× (whole command: {wall2 / wall1:.2f}×)", rate2 / rate1 >= 1.8)


def sweep_section(sweep: tuple) -> str:
    wall1, wall2, rate1, rate2, jobs, steps, cpu = sweep
    return (f"{SWEEP_HEADING}\n\n{jobs} runs × {steps} weeks (urban_traditional × five_society) through "
            f"`sim.runs.runner.run_many` (forked job processes): {wall1:.1f} runs/min on 1 core and {wall2:.1f} "
            f"on 2 ({wall2 / wall1:.2f}×) over the whole command; {rate1:.1f} and {rate2:.1f} runs/min "
            f"({rate2 / rate1:.2f}×) in steady state, between the first and the last run's completion (the fixed "
            "start-up of the interpreter and the worker processes is amortised by thousands of runs). CPU on 2 "
            f"cores: {cpu:.2f} s a run (all processes of the command).\n")


VERSUS_POLICIES = ["baseline", "five_society", "gov_purchase", "micro_fund"]
# the sweeps compared: (name, policies or None, extra overrides).  The third is the seed sweep of runs without
# the warm-up: 260 weeks of model, what a run was when issue #10 set its 3× target (before #11 added the warm-up)
VERSUS_SWEEPS = (("policies", VERSUS_POLICIES, []), ("seeds", None, []), ("seeds_no_warmup", None, ["warmup_weeks=0"]))


def _sweep_text(sweep: str, runs: int, table: bool) -> str:
    """How a sweep of VERSUS_SWEEPS is named: in the comparison's table (``table``) or in the targets."""
    one = "1 policy" if table else "one policy"
    return {"policies": f"{len(VERSUS_POLICIES)} policies × {runs // len(VERSUS_POLICIES)} seeds",
            "seeds": f"{one} × {runs} seeds",
            "seeds_no_warmup": f"{one} × {runs} seeds, " + ("no warm-up" if table else "without the warm-up")}[sweep]


def versus_case(quick: bool) -> tuple:
    """The same runs through a Hydra multirun and through run_many: a policy sweep (4 policies × 50 seeds, the
    sweep of a policy comparison) and a seed sweep (one policy, 200 seeds)."""
    runs = 12 if quick else 200
    load = os.getloadavg()[0]
    rates = {}
    for sweep, policies, extra in VERSUS_SWEEPS:
        hydra = many_rate("hydra", runs, 2, [*VERSUS_OVERRIDES, *extra], policies)
        many = many_rate("run_many", runs, 2, [*VERSUS_OVERRIDES, *extra], policies)
        rates[sweep] = (hydra, many)
        print(f"  {runs} runs ({sweep}: {' '.join([*VERSUS_OVERRIDES, *extra])}), 2 worker processes: Hydra multirun "
              f"{hydra[0]:.0f} runs/min, run_many {many[0]:.0f} runs/min ({many[0] / hydra[0]:.1f}×) over the whole "
              f"command; steady state {hydra[1]:.0f} vs {many[1]:.0f} ({many[1] / hydra[1]:.1f}×)", flush=True)
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--per-run", str(4 if quick else 20), "--",
                           *VERSUS_OVERRIDES], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"per-run benchmark failed:\n{proc.stderr}")
    costs = json.loads(proc.stdout.strip().splitlines()[-1])
    print("  one run after another: " + ", ".join(f"{way} {c['ms']:.0f} ms ({c['page_faults']:.0f} page faults)"
                                                  for way, c in costs.items()), flush=True)
    return runs, rates, (load, os.getloadavg()[0]), costs


def versus_targets(versus: tuple) -> list[tuple[str, str, bool]]:
    runs, rates, *_ = versus
    out = []
    for sweep, *_ in VERSUS_SWEEPS:
        what = _sweep_text(sweep, runs, table=False)
        hydra, many = rates[sweep]
        out.append((f"run_many ≥ 3 × the runs per minute of a Hydra multirun ({runs} relocation runs, 260 weeks, "
                    f"2 cores: {what})",
                    f"{many[0] / hydra[0]:.1f}× ({many[0]:.0f} vs {hydra[0]:.0f} runs/min; steady state "
                    f"{many[1] / hydra[1]:.1f}×)", many[0] / hydra[0] >= 3))
    return out


def versus_section(versus: tuple) -> str:
    runs, rates, load, costs = versus
    rows = []
    for sweep, policies, extra in VERSUS_SWEEPS:
        seeds = runs // len(policies) if policies else runs
        hydra_cmd = " ".join(["`python -m sim -m community=relocation", *extra,
                              *([f"policy={','.join(policies)}"] if policies else []),
                              f"seed='range(0,{seeds})' hydra.launcher.n_jobs=2`"])
        many_cmd = " ".join([f"`python -m benchmarks.run --many {runs} --jobs 2",
                             *([f"--policies {','.join(policies)}"] if policies else []), "--", *VERSUS_OVERRIDES,
                             *extra]) + "`"
        (hydra, hydra_steady, hydra_cpu), (many, many_steady, many_cpu) = rates[sweep]
        what = _sweep_text(sweep, runs, table=True)
        rows.append(f"| {what} | Hydra multirun (joblib launcher) | {hydra_cmd} | {hydra:.0f} | {hydra_steady:.0f} | "
                    f"{hydra_cpu * 1000:.0f} | |")
        rows.append(f"| {what} | `sim.runs.runner.run_many` | {many_cmd} | {many:.0f} | {many_steady:.0f} | "
                    f"{many_cpu * 1000:.0f} | "
                    f"**{many / hydra:.1f}×** ({many_steady / hydra_steady:.1f}× steady) |")
    return (f"{VERSUS_HEADING}\n\nThe same {runs} runs (`community=relocation`, 260 weeks each after the 208-week "
            f"warm-up), two at a time, each written to its own folder and collated at the end, timed over the "
            f"whole command in a fresh process (load average {load[0]:.1f} at the start, {load[1]:.1f} at the "
            f"end; other work shared the 2 cores when it was above 0). Two sweeps: a policy comparison (policies "
            f"× seeds, what `experiments` and the dashboard's replicates run) and a seed sweep of one policy. "
            f"Hydra's joblib launcher runs each job in one of 2 worker processes, which forks a child for it; "
            f"`run_many` forks 2 job processes from its own process, each running job after job until a job ends "
            f"it (a death, an error or a limit: the job is recorded as failed with its cause, and a new job "
            f"process takes the next job). The runs of one seed under several policies go to one job process, "
            f"which warms the community once for them all (`sim.runs.runner.WarmedModels`; the warm-up runs under the "
            f"baseline levers whatever the policy, and the outputs are byte-identical to separate runs, "
            f"tests/test_run_many_isolation.py). A seed sweep has no warm-up to share. The third sweep runs "
            f"without the warm-up (`warmup_weeks=0`): 260 weeks of model a run, what a run was when the 3× target "
            f"was set.\n\n"
            "| sweep | how | command | runs/min (whole command) | runs/min (steady state) | CPU ms a run (all "
            "processes) | run_many ÷ Hydra |\n"
            "|---|---|---|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n\n"
            "Where a run's time goes, one run after another on one core (`python -m benchmarks.run --per-run 20 -- "
            "community=relocation steps=260`, the same 260-week run with its warm-up, outputs written): "
            f"{costs['in_process']['ms']:.0f} ms in the calling process, {costs['fresh_child']['ms']:.0f} ms as the "
            "only job of a child forked for it (what each job of a Hydra multirun does), "
            f"{costs['reused_child']['ms']:.0f} ms as the next job of a job process that has run the ones before "
            "(what `run_many` does). In a fresh child, each page of memory it shares with its parent is copied "
            "when the run first writes to it "
            f"({costs['fresh_child']['page_faults']:,.0f} page faults a run, against "
            f"{costs['reused_child']['page_faults']:,.0f} in a reused job process and "
            f"{costs['in_process']['page_faults']:,.0f} in the calling process).\n")


def replace_section(text: str, heading: str, section: str) -> str:
    """``text`` with the section under ``heading`` (up to the next ``## ``) replaced, or added before the targets."""
    start = text.find(heading + "\n")
    if start < 0:
        start = text.find("## Targets")
        start = len(text) if start < 0 else start
        return text[:start] + section + "\n" + text[start:]
    end = text.find("\n## ", start + len(heading))
    return text[:start] + section + ("\n" + text[end + 1:] if end >= 0 else "")


def only(name: str, quick: bool) -> int:
    """Run one many-runs case; rewrite its section of results.md and its row of the targets table."""
    if name == "sweep":
        result = sweep_case(quick)
        heading, section, target = SWEEP_HEADING, sweep_section(result), sweep_target(result)
    else:
        result = versus_case(quick)
        heading, section, targets = VERSUS_HEADING, versus_section(result), versus_targets(result)
    if name == "sweep":
        targets = [target]
    for tag, value, ok in targets:
        print(f"  {'PASS' if ok else 'FAIL'}  {tag}: {value}")
    if quick:
        return 0
    path = HERE / "results.md"
    lines = replace_section(path.read_text(encoding="utf-8"), heading, section).splitlines()
    key = targets[0][0].split("(")[0].split(" ≥ ")[0]
    hit = [i for i, line in enumerate(lines) if line.startswith(f"| {key}")]
    at = hit[0] if hit else max(i for i, line in enumerate(lines) if line.startswith("| ")) + 1
    lines[at:at + len(hit)] = [f"| {tag} | {value} | {'pass' if ok else '**fail**'} |" for tag, value, ok in targets]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"updated {path}")
    return 0 if all(ok for *_, ok in targets) else 1


CHART = "![time vs residents](scaling.png)"


def sections_after_chart(text: str) -> str:
    """What follows the chart in results.md: the sections other commands write (``benchmarks.load``,
    ``benchmarks.dashboard_speed`` and their notes), their own measurements, which a full run keeps as they are."""
    return text[text.index(CHART) + len(CHART):].strip("\n") if CHART in text else ""


def write_results(rows, targets, ref, sweep, versus, scaling, quick) -> None:
    m = machine()
    lines = ["# Benchmark results", "",
             f"Written by `python -m benchmarks.run{' --quick' if quick else ''}` on {time.strftime('%Y-%m-%d')}.", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}; {m['platform']}; Python {m['python']}, "
             f"Mesa {m['mesa']}, numpy {m['numpy']}. Each case ran in a fresh process; times are model "
             "construction + run + writing outputs (best of the repeats), excluding interpreter start-up.", "",
             "| scenario | residents | weeks (warm-up + recorded) | seconds (wall) | CPU seconds | resident-weeks/s | "
             "peak memory (MB) | speed-up vs per-agent |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows:
        up = "1×" if r is ref else f"{r['rw_per_s'] / ref['rw_per_s']:.0f}×"
        lines.append(f"| {name} | {r['residents']:,} | {r['warmup']} + {r['recorded']} | {r['seconds']:.2f} | "
                     f"{r['cpu_seconds']:.2f} | {r['rw_per_s']:,.0f} | {r['peak_mb']:.0f} | {up} |")
    lines += ["", sweep_section(sweep), versus_section(versus), "## Targets", "",
              "| target | measured | |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'pass' if ok else '**fail**'} |" for name, value, ok in targets]
    lines += ["", CHART, ""]
    path = HERE / "results.md"
    kept = sections_after_chart(path.read_text(encoding="utf-8") if path.exists() else "")
    if kept:
        lines += [kept, ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    _scaling_chart(scaling)
    print(f"\nwrote {HERE / 'results.md'} and {HERE / 'scaling.png'}")


def _scaling_chart(scaling) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    n = [r["residents"] for r in scaling]
    t = [r["seconds"] for r in scaling]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.loglog(n, t, "o-", color="black", label="measured")
    ax.loglog(n, [t[0] * x / n[0] for x in n], "--", color="grey", label="linear from the smallest")
    ax.loglog(n, [t[-1] * x / n[-1] for x in n], ":", color="grey", label="linear from the largest")
    ax.set_xlabel("residents")
    ax.set_ylabel(f"seconds for {scaling[0]['weeks']} weeks")
    ax.set_title("Run time vs residents (five_society)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(HERE / "scaling.png", dpi=150)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
