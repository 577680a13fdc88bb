"""Where each policy lever's rules live: a table generated from the lever modules and the code, for docs/ODD.md.

A lever is a module of :mod:`sim.levers` and a section of :class:`sim.settings.config.PolicyConfig`
(``policy.micro_fund``,
``policy.fund`` …).  Its own rules are those its module runs at the named points of the week (``Lever.rules``);
the parties' rules that read its values are found in their code.  A party's rule *uses* a lever when its function
body reads that section: the levers in force, written as
``model.policy.<lever>``, ``self.model.policy.<lever>`` or through the usual local alias ``pol.<lever>``
(``pol = model.policy``), or the run's configured levers, ``cfg.policy.<lever>``.  The levers in force are
the baseline's during the warm-up and the run's after it (sim/model/community_model.py); a rule that reads the
configured
levers sees the run's levers during the warm-up too, so the table marks it with † (set-up code, or the
district's rules).  The table lists, for every lever, each function and method of the model's modules that
reads it, so a reader can go from "what does this lever do?" to the code in one step; ``python -m sim.tables.docs``
writes it into the ODD and docs/architecture.md, and a test keeps it current.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from sim.levers import LEVERS

PACKAGE = Path(__file__).resolve().parent.parent / "model"  # the model's rules (sim/model/)
NOT_RULES: set[str] = set()  # modules of the model that present rather than apply the levers: none


def levers() -> list[str]:
    """The levers (their config sections), in the levers' order."""
    return [lever.name for lever in LEVERS]


def own_rules() -> dict[str, list[str]]:
    """lever → its own rules, ``point: module.function`` (run at the named points of the week,
    sim/model/community_model.py)."""
    return {lv.name: [f"{point}: `levers.{lv.name}.{rule.__name__}`" for point, rule in lv.rules.items()]
            for lv in LEVERS}


def _functions(tree: ast.Module):
    """(qualified name, node) of every function and method, nested classes included."""
    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield f"{prefix}{child.name}", child
    yield from walk(tree, "")


def _patterns(names: list[str]) -> tuple[re.Pattern, re.Pattern]:
    """Any read of a lever section, and a read of the run's configured levers (``cfg.policy.<lever>``)."""
    alternatives = "|".join(map(re.escape, names))
    return (re.compile(r"\b(?:policy|pol)\.(" + alternatives + r")\b"),
            re.compile(r"\bcfg\.policy\.(" + alternatives + r")\b"))


def configured_reads(package: Path = PACKAGE) -> dict[str, set[str]]:
    """lever → the rules (``module.Class.method``) that read the run's configured lever, ``cfg.policy.<lever>``."""
    names = levers()
    _any, configured = _patterns(names)
    found: dict[str, set[str]] = {n: set() for n in names}
    for path, qualname, _node, body in _bodies(package):
        for lever in configured.findall(body):
            found[lever].add(f"{path.stem}.{qualname}")
    return found


def _bodies(package: Path):
    """(path, qualified name, node, source) of every function and method of the rule modules."""
    for path in sorted(package.glob("*.py")):
        if path.name in NOT_RULES or path.name.startswith("_"):
            continue
        source = path.read_text(encoding="utf-8")
        for qualname, node in _functions(ast.parse(source)):
            yield path, qualname, node, ast.get_source_segment(source, node) or ""


def lever_rules(package: Path = PACKAGE) -> dict[str, list[str]]:
    """lever → ``module.Class.method`` of every rule that reads it (sorted by module, then line)."""
    names = levers()
    pattern, _configured = _patterns(names)
    found: dict[str, list[tuple[str, int, str]]] = {n: [] for n in names}
    for path, qualname, node, body in _bodies(package):
        for lever in sorted(set(pattern.findall(body))):
            found[lever].append((path.stem, node.lineno, f"{path.stem}.{qualname}"))
    return {lever: [name for _m, _l, name in sorted(rows)] for lever, rows in found.items()}


def lever_table() -> str:
    """The markdown table of docs/ODD.md: lever, its module, its parameters, its own rules (at which point of the
    week), the parties' rules that read it (†: the configured lever), and what it adds to the weekly table."""

    from sim.levers import SCHEDULE_FIELDS

    rows = ["| lever | parameters (besides `start_week`, `end_week`, `changes`) | its own rules "
            "(`sim/levers/<lever>.py`) | rules of the parties that read it (`sim/model/<module>.py`) | adds |",
            "|---|---|---|---|---|"]
    configured, own, read = configured_reads(), own_rules(), lever_rules()
    for lv in LEVERS:
        params = [f.name for f in dataclasses.fields(lv.params) if f.name not in SCHEDULE_FIELDS]
        rule_text = ", ".join(f"`{r}`" + (" †" if r in configured[lv.name] else "") for r in read[lv.name]) or "—"
        adds = [*(f"column `{c}`" for c in lv.columns), *(f"cost `{k}`" for k in lv.cost_kinds),
                *(f"stream `{st}`" for st in lv.streams)]
        rows.append(f"| `policy.{lv.name}` | {', '.join(params)} | {'; '.join(own[lv.name]) or '—'} | {rule_text} | "
                    f"{', '.join(adds) or '—'} |")
    return "\n".join(rows)
