"""Hashes of the shipped scenarios' outputs: every preset × policy (seed 0, 260 weeks) and the districts.

A refactor that must not change the model checks its outputs stay byte-identical::

    python scripts/output_hashes.py --out /tmp/before.json          # on the old code
    python scripts/output_hashes.py --check /tmp/before.json        # on the new code: exit 1 on any change

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

PRESETS = ("industrial_park", "organised_urban", "relocation", "tourism_village", "township",
           "urban_rural_fringe", "urban_traditional")
POLICIES = ("baseline", "micro_fund", "moral_bank", "gov_purchase", "charity_sales", "social_enterprise",
            "five_society")
DISTRICTS = (("small_district", "baseline"), ("small_district", "five_society"), ("enyang_like", "five_society"))
LABEL_KEYS = ("label_en", "label_zh")


def _kpi_numbers(report: dict) -> dict:
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in LABEL_KEYS}
        return x
    return strip(report)


def hash_run(overrides: list[str]) -> dict[str, str]:
    from sim.config import settings_for
    from sim.runner import run

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="write the hashes to this JSON file")
    ap.add_argument("--check", type=Path, help="compare with hashes written earlier; exit 1 on any difference")
    ap.add_argument("--no-districts", action="store_true", help="skip the districts (enyang_like takes ~15 s)")
    args = ap.parse_args(argv)
    hashes = all_hashes(districts=not args.no_districts)
    if args.out:
        args.out.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if args.check:
        before = json.loads(args.check.read_text(encoding="utf-8"))
        diff = [k for k in hashes if before.get(k) != hashes[k]]
        for k in diff:
            print(f"CHANGED {k}: {before.get(k)} -> {hashes[k]}")
        print(f"{len(hashes) - len(diff)} of {len(hashes)} runs identical")
        return 1 if diff else 0
    if not args.out:
        print(json.dumps(hashes, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
