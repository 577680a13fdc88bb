"""Where each policy lever's rules live: a table generated from the lever modules and the model's code, for the ODD.

A lever is a module of :mod:`sim.levers` (``sim/levers/<lever>.py``) and a section of the policy config
(``policy.micro_fund``, ``policy.fund`` …).  Everything a lever does is in its module: the rules it runs at named
points of the week (``Lever.rules``: ``policy_start``, ``week_start``, ``after_fund``, ``week_end``) and the
functions the parties' rules call where the lever acts (``moral_bank.award``, ``gov_purchase.cases_bought`` …);
no rule of the model reads ``policy.<lever>`` itself (a test checks it).  The table lists, for every lever, its
parameters, its functions, which rules of the model (``sim/model/<module>.py``) call them, and what it adds to the
weekly table, so a reader can go from "what does this lever do?" to the code in one step;
``python -m sim.tables.docs`` writes it into the ODD and docs/architecture.md, and a test keeps it current.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from sim.levers import LEVERS, SCHEDULE_FIELDS

PACKAGE = Path(__file__).resolve().parent.parent / "model"  # the model's rules (sim/model/)
LEVER_PACKAGE = Path(__file__).resolve().parent.parent / "levers"


def levers() -> list[str]:
    """The levers (their config sections), in the levers' order."""
    return [lever.name for lever in LEVERS]


def own_rules() -> dict[str, list[str]]:
    """lever → its rules run at points of the week, ``point: levers.<lever>.<function>``."""
    return {lv.name: [f"{point}: `levers.{lv.name}.{rule.__name__}`" for point, rule in lv.rules.items()]
            for lv in LEVERS}


def lever_functions(package: Path = LEVER_PACKAGE) -> dict[str, list[str]]:
    """lever → the public functions of its module (what the parties call, and its rules), in file order."""
    out = {}
    for name in levers():
        path = package / f"{name}.py"
        tree = ast.parse(path.read_text(encoding="utf-8")) if path.exists() else ast.Module(body=[], type_ignores=[])
        out[name] = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]
    return out


def _functions(tree: ast.Module):
    """(qualified name, node) of every function and method, nested classes included."""
    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield f"{prefix}{child.name}", child
    yield from walk(tree, "")


def _lever_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name → lever, for ``from sim.levers import fund as fund_lever, moral_bank`` (any scope)."""
    names = set(levers())
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "sim.levers":
            for alias in node.names:
                if alias.name in names:
                    out[alias.asname or alias.name] = alias.name
    return out


def _rule_modules(package: Path):
    for path in sorted(package.glob("*.py")):
        if not path.name.startswith("_"):
            source = path.read_text(encoding="utf-8")
            yield path, source, ast.parse(source)


def lever_rules(package: Path = PACKAGE) -> dict[str, list[str]]:
    """lever → ``module.Class.method`` of every rule of the model that calls a function of the lever's module
    (sorted by module, then line)."""
    found: dict[str, list[tuple[str, int, str]]] = {n: [] for n in levers()}
    for path, _source, tree in _rule_modules(package):
        aliases = _lever_aliases(tree)
        for qualname, node in _functions(tree):
            called = {aliases[c.func.value.id] for c in ast.walk(node) if isinstance(c, ast.Call)
                      and isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Name)
                      and c.func.value.id in aliases}
            for lever in called:
                found[lever].append((path.stem, node.lineno, f"{path.stem}.{qualname}"))
    return {lever: [name for _m, _l, name in sorted(rows)] for lever, rows in found.items()}


def direct_reads(package: Path = PACKAGE) -> list[str]:
    """``module.function: policy.<lever>`` for every rule of the model that reads a lever's values itself instead of
    calling its module (the index above would miss it); empty in this code base, and a test keeps it so."""
    pattern = re.compile(r"\b(?:policy|pol)\.(" + "|".join(map(re.escape, levers())) + r")\b")
    out = []
    for path, source, tree in _rule_modules(package):
        for qualname, node in _functions(tree):
            body = ast.get_source_segment(source, node) or ""
            out += [f"{path.stem}.{qualname}: policy.{lever}" for lever in sorted(set(pattern.findall(body)))]
    return out


def lever_table() -> str:
    """The markdown table of docs/ODD.md: lever, its parameters, its functions (the rules it runs at points of the
    week named), the model's rules that call them, and what it adds to the weekly table."""
    rows = ["| lever (`sim/levers/<lever>.py`) | parameters (besides `start_week`, `end_week`, `changes`) | its "
            "functions (rules run at a point of the week: the point) | called by (`sim/model/<module>.py`) | adds |",
            "|---|---|---|---|---|"]
    called, functions = lever_rules(), lever_functions()
    for lv in LEVERS:
        params = [f.name for f in dataclasses.fields(lv.params) if f.name not in SCHEDULE_FIELDS]
        points = {rule.__name__: point for point, rule in lv.rules.items()}
        own = [f"`{fn}`" + (f" ({points[fn]})" if fn in points else "") for fn in functions[lv.name]]
        adds = [*(f"column `{c}`" for c in lv.columns), *(f"cost `{k}`" for k in lv.cost_kinds),
                *(f"stream `{st}`" for st in lv.streams)]
        rows.append(f"| `policy.{lv.name}` | {', '.join(params)} | {', '.join(own) or '—'} | "
                    f"{', '.join(f'`{r}`' for r in called[lv.name]) or '—'} | {', '.join(adds) or '—'} |")
    return "\n".join(rows)
