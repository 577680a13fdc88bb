"""Regenerate the generated tables of docs/ODD.md and docs/architecture.md: ``python -m sim.tables.docs [--check]``.

The parameter table and the list of parameters labelled ``assumption`` come from the config schema
(sim/settings/config.py), the output table from the glossary (sim/tables/glossary.py), the KPI table (target,
definition, status) from sim/model/indicators.py, the table of where each policy lever acts from the rules'
code (sim/tables/lever_rules.py), so the documentation cannot drift from the code: ``--check`` (and a test)
fails when a document is out of date.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from sim.model.indicators import SERVICE_INDICATORS, TARGETS
from sim.settings.config import SimConfig, parameter_table
from sim.settings.params import ASSUMPTION
from sim.settings.schema import iter_params
from sim.tables.glossary import COLUMNS
from sim.tables.lever_rules import lever_table

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
ODD = DOCS / "ODD.md"
ARCHITECTURE = DOCS / "architecture.md"


def output_table() -> str:
    rows = ["| column | unit | meaning | 中文 |", "|---|---|---|---|"]
    rows += [f"| `{k}` | {unit} | {meaning} | {zh} |" for k, (_en, zh, unit, meaning) in COLUMNS.items()]
    return "\n".join(rows)


def kpi_table() -> str:
    rows = ["| KPI (`kpis.json`) | Enyang 专栏1 # | target | unit | status | definition (how the model computes it) "
            "| as administrations define it |",
            "|---|---|---|---|---|---|---|"]
    for t in TARGETS:
        definition = t.definition + (f" ({t.note})" if t.note else "")
        rows.append(f"| `{t.key}` | {t.number or ''} | {t.op} {t.value:g} | {t.unit} | {t.status} | {definition} "
                    f"| {t.source} |")
    rows += ["", "Service indicators of the work orders besides #33–#35 (`kpis.json` totals; no plan target):", "",
             "| indicator | definition | source |", "|---|---|---|"]
    rows += [f"| `{key}` | {definition} | {source} |" for key, (definition, source) in SERVICE_INDICATORS.items()]
    return "\n".join(rows)


# Settings of a run rather than of the model: not listed among the model's assumptions.
RUN_SETTINGS = ("steps", "seed", "progress", "lang", "overwrite", "processes")


def assumption_list() -> str:
    """The model's parameters whose schema source is ``assumption`` (no seed line, no published source), by section.

    A preset (configs/community/*.yaml) or a policy file may set a value with its own source in a
    comment; the list is of the schema's parameters, whatever the preset.
    """
    by_section: dict[str, list[str]] = {}
    for key, f, _value in iter_params(SimConfig):
        section, _, name = key.rpartition(".")
        if key in RUN_SETTINGS or key.startswith("sweep.") or name in ("name", "label_zh"):
            continue
        if f.metadata.get("source", "").startswith(ASSUMPTION):
            by_section.setdefault(section or "run", []).append(name)
    rows = ["| section | parameters labelled `assumption` | count |", "|---|---|---:|"]
    for section, names in by_section.items():
        rows.append(f"| `{section}` | {', '.join(f'`{n}`' for n in names)} | {len(names)} |")
    rows.append(f"| all | | {sum(map(len, by_section.values()))} |")
    return "\n".join(rows)


SECTIONS = {"parameters": parameter_table, "outputs": output_table, "kpis": kpi_table, "levers": lever_table,
            "assumptions": assumption_list}
# The generated blocks of each document.
DOCUMENTS = {ODD: ("parameters", "outputs", "kpis", "levers", "assumptions"), ARCHITECTURE: ("levers",)}


def render(text: str, names: tuple[str, ...] = tuple(SECTIONS), path: Path = ODD) -> str:
    for name in names:
        fn = SECTIONS[name]
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"error: {path} has no '<!-- BEGIN {name} -->' … '<!-- END {name} -->' block")
        text = pattern.sub(lambda m, fn=fn: m.group(1) + fn() + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Regenerate the generated tables of docs/ODD.md and docs/architecture.md "
                                             "(parameters, assumptions, outputs, KPIs, where each lever acts).")
    ap.add_argument("--check", action="store_true", help="only check that the documents are up to date")
    args = ap.parse_args(argv)
    stale = []
    for path, names in DOCUMENTS.items():
        old = path.read_text(encoding="utf-8")
        new = render(old, names, path)
        if new == old:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path}")
    if args.check and stale:
        print(f"{', '.join(map(str, stale))} out of date: run python -m sim.tables.docs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
