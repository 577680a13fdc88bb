"""The layers run one way down: sim ← experiments ← dashboard, with no import cycles.

* ``sim/`` (the model, one run, the run files, collation) imports nothing above it;
* ``experiments/`` (studies and analysis) imports ``sim`` only;
* ``dashboard/`` (the workshop UI) may import both;
* ``hydra_plugins/`` (the sweeper plugin) and ``benchmarks/`` sit beside them: the plugin imports no project
  layer at all (it gets its checks as dotted names from the config), benchmarks may use sim and experiments.

Every import is walked, including those inside functions (a lazy import is still a dependency); imports
under ``if TYPE_CHECKING:`` count for the direction of the layers but not for cycles, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("sim", "experiments", "dashboard", "hydra_plugins", "benchmarks")
# What each top-level package may import from the project (besides itself).
ALLOWED = {
    "sim": set(),
    "experiments": {"sim"},
    "dashboard": {"sim", "experiments"},
    "hydra_plugins": set(),
    # benchmarks measure every layer (the dashboard's speed too) and nothing imports them
    "benchmarks": {"sim", "experiments", "dashboard"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, runs at import or call time) for every import statement in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, runtime: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.body:
                    visit_stmt(sub, False)
                for sub in child.orelse:
                    visit_stmt(sub, runtime)
                continue
            visit_stmt(child, runtime)

    def visit_stmt(node: ast.AST, runtime: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name, runtime) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((target, runtime))
            # `from pkg import module` imports the submodule too
            found.extend((f"{target}.{alias.name}", runtime) for alias in node.names)
        visit(node, runtime)

    visit(tree, True)
    return found


def _project_files() -> list[Path]:
    files = []
    for pkg in PACKAGES:
        root = REPO / pkg
        if root.is_dir():
            files += [p for p in root.rglob("*.py") if ".venv" not in p.parts]
    return sorted(files)


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """module → project modules it imports: (all imports, imports that run)."""
    files = _project_files()
    modules = {_module_name(p): p for p in files}
    everything: dict[str, set[str]] = {m: set() for m in modules}
    runtime: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for target, runs in _imports(path):
            # resolve to the longest known module prefix (``from sim.settings.config import X`` → sim.settings.config)
            parts = target.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if not parts:
                continue
            dep = ".".join(parts)
            if dep == name:
                continue
            everything[name].add(dep)
            if runs:
                runtime[name].add(dep)
    return everything, runtime


def test_the_walker_sees_the_project():
    everything, runtime = _graph()
    assert {"sim.model.community_model", "sim.settings.config", "experiments.stats"} <= set(everything)
    assert any(dep.startswith("sim") for deps in runtime.values() for dep in deps)


def test_no_upward_imports():
    everything, _ = _graph()
    upward = []
    for module, deps in everything.items():
        layer = module.split(".")[0]
        for dep in deps:
            dep_layer = dep.split(".")[0]
            if dep_layer != layer and dep_layer not in ALLOWED[layer]:
                upward.append(f"{module} imports {dep}")
    assert not upward, "imports against the layers (sim ← experiments ← dashboard):\n" + "\n".join(sorted(upward))


# Inside sim/, four concerns on four floors, one way down (sim/__init__ and python -m sim's __main__ sit above them):
# parameters and config with the levers; the model; labels and tables; running, sweeps and run files.
SIM_FLOORS = (("sim.settings", "sim.levers"), ("sim.model",), ("sim.tables",), ("sim.runs",))


def _floor(module: str) -> int | None:
    for k, packages in enumerate(SIM_FLOORS):
        if any(module == p or module.startswith(p + ".") for p in packages):
            return k
    return None


def test_sim_is_in_sub_packages_by_concern():
    modules = {_module_name(p) for p in (REPO / "sim").rglob("*.py") if "configs" not in p.parts}
    loose = sorted(m for m in modules if _floor(m) is None and m not in ("sim", "sim.__main__"))
    assert not loose, f"modules of sim/ outside its sub-packages {SIM_FLOORS}: {loose}"


def test_no_upward_imports_inside_sim():
    everything, _ = _graph()
    upward = []
    for module, deps in everything.items():
        here = _floor(module)
        if here is None:
            continue
        for dep in deps:
            there = _floor(dep)
            if there is not None and there > here:
                upward.append(f"{module} imports {dep}")
    assert not upward, ("imports against sim's floors (settings/levers ← model ← tables ← runs):\n"
                        + "\n".join(sorted(upward)))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def _without_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop edges into a package's ``__init__`` from its own submodules (importing a submodule runs it)."""
    return {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()}


def test_no_import_cycles():
    _, runtime = _graph()
    cycles = _cycles(_without_packages(runtime))
    assert not cycles, "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in cycles)


@pytest.mark.parametrize("graph,expected", [
    ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
])
def test_cycle_finder(graph, expected):
    assert _cycles(graph) == expected


def test_the_walker_finds_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "sim"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import X\n"
                              "def f():\n    from experiments import compare\n")
    (pkg / "b.py").write_text("")
    found = dict(_imports_at(tmp_path, pkg / "a.py"))
    assert found["sim.b"] is False          # only for type checking
    assert found["experiments"] is True     # a lazy import still counts


def _imports_at(root: Path, path: Path) -> list[tuple[str, bool]]:
    global REPO
    saved, REPO = REPO, root
    try:
        return _imports(path)
    finally:
        REPO = saved
