"""Hashes of the shipped scenarios' outputs: every preset × policy (seed 0, 260 weeks) and the districts.

A refactor that must not change the model checks its outputs stay byte-identical::

    python scripts/output_hashes.py --out /tmp/before.json          # on the old code
    python scripts/output_hashes.py --check /tmp/before.json        # on the new code: exit 1 on any change

The golden outputs (``--golden``): a small fixed set of runs (:func:`golden_runs`: the smallest preset under
every policy, a district, a scheduled withdrawal, seeds 0 and 1) whose hashes are kept in ``tests/golden/outputs.json``
and checked by the test suite (tests/test_golden.py, in the fast tier).  When a change of the model's outputs is
meant, write them anew and say so in CHANGELOG.md::

    python scripts/output_hashes.py --golden --update

For each run it hashes the bytes of every Parquet table (``timeseries.parquet``, and
``district_timeseries.parquet`` for a district) and the numbers of ``kpis.json`` (display labels, which
are not model output, are left out: ``label_en``/``label_zh``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

from sim.settings.config import community_presets, district_presets, policy_presets

PRESETS = tuple(community_presets())
POLICIES = tuple(policy_presets())
# every district under five_society, and the smallest also under the baseline; not the city (4,000 communities, most
# of an hour of CPU: its communities and district rules are those of the others)
TOO_LARGE = ("city",)
DISTRICTS = (("small_district", "baseline"),
             *((d, "five_society") for d in district_presets() if d not in TOO_LARGE))
LABEL_KEYS = ("label_en", "label_zh")
GOLDEN_FILE = Path(__file__).resolve().parent.parent / "tests" / "golden" / "outputs.json"


def golden_runs() -> dict[str, list[str]]:
    """The golden set: name → overrides.  Every policy preset in the smallest community (seed 0), a second seed of
    five_society, the small district, and five_society with every money lever withdrawn after recorded week 52;
    104 recorded weeks after a 52-week warm-up (two project rounds and contract periods), to keep the test short."""
    from sim.levers import money_levers

    small, short = "relocation", ["steps=104", "warmup_weeks=52"]
    runs = {f"community={small} policy={p}": [f"community={small}", f"policy={p}", *short] for p in POLICIES}
    runs[f"community={small} policy=five_society seed=1"] = [f"community={small}", "policy=five_society", "seed=1",
                                                             *short]
    runs["district=small_district policy=five_society"] = ["district=small_district", "policy=five_society",
                                                           "steps=52", "warmup_weeks=26"]
    withdraw = sorted({f"policy.{key.split('.')[1]}.end_week=52" for key in money_levers()})
    runs[f"community={small} policy=five_society money withdrawn after week 52"] = [
        f"community={small}", "policy=five_society", *withdraw, *short]
    return runs


def _kpi_numbers(report: dict) -> dict:
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in LABEL_KEYS}
        return x
    return strip(report)


def hash_run(overrides: list[str]) -> dict[str, str]:
    from sim.runs.runner import run
    from sim.settings.config import settings_for

    settings = settings_for("progress=false", *overrides)
    with tempfile.TemporaryDirectory() as tmp:
        run(settings, tmp, progress=False)
        out = {}
        for f in sorted(Path(tmp).glob("*.parquet")):
            out[f.name] = hashlib.sha256(f.read_bytes()).hexdigest()[:16]
        kpis = json.loads((Path(tmp) / "kpis.json").read_text(encoding="utf-8"))
        out["kpis"] = hashlib.sha256(json.dumps(_kpi_numbers(kpis), sort_keys=True).encode()).hexdigest()[:16]
    return out


def all_hashes(districts: bool = True) -> dict[str, dict[str, str]]:
    result = {}
    for c in PRESETS:
        for p in POLICIES:
            result[f"community={c} policy={p}"] = hash_run([f"community={c}", f"policy={p}"])
    if districts:
        for d, p in DISTRICTS:
            result[f"district={d} policy={p}"] = hash_run([f"district={d}", f"policy={p}"])
    return result


def golden_hashes() -> dict[str, dict[str, str]]:
    return {name: hash_run(overrides) for name, overrides in golden_runs().items()}


def compare(before: dict, now: dict) -> tuple[list[str], list[str], list[str]]:
    """(changed, new, gone) run names between two hash tables."""
    changed = [k for k in now if k in before and before[k] != now[k]]
    return changed, [k for k in now if k not in before], [k for k in before if k not in now]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--golden", action="store_true", help="the golden set of tests/golden/outputs.json, not every "
                                                          "preset × policy")
    ap.add_argument("--update", action="store_true", help="with --golden: write the golden hashes anew (a change "
                                                          "of model outputs made on purpose)")
    ap.add_argument("--out", type=Path, help="write the hashes to this JSON file")
    ap.add_argument("--check", type=Path, help="compare with hashes written earlier; exit 1 on any difference")
    ap.add_argument("--no-districts", action="store_true", help="skip the districts (enyang_like takes ~15 s)")
    args = ap.parse_args(argv)
    if args.update and not args.golden:
        ap.error("--update writes the golden hashes: use it with --golden")
    hashes = golden_hashes() if args.golden else all_hashes(districts=not args.no_districts)
    if args.golden and args.update:
        GOLDEN_FILE.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN_FILE.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {len(hashes)} golden runs to {GOLDEN_FILE}")
        return 0
    if args.out:
        args.out.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    check = args.check or (GOLDEN_FILE if args.golden else None)
    if check:
        before = json.loads(Path(check).read_text(encoding="utf-8"))
        changed, new, gone = compare(before, hashes)
        for k in changed:
            print(f"CHANGED {k}: {before[k]} -> {hashes[k]}")
        for k in new:
            print(f"NEW {k} (not in {check})")
        for k in gone:
            print(f"GONE {k} (in {check}, not run)")
        print(f"{len(hashes) - len(changed) - len(new)} of {len(hashes)} runs identical, {len(changed)} changed, "
              f"{len(new)} new, {len(gone)} not run")
        return 1 if changed else 0
    if not args.out and not check:
        print(json.dumps(hashes, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
