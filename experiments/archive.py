"""A model-library archive of the model (CoMSES Net and the like): ``python -m experiments.archive`` (issue 26).

    python -m experiments.archive [--out DIR] [--allow-dirty]

writes ``DIR/five-society-sim-<version>.zip`` (default ``dist/``), one folder holding what a model library asks
of a submission (CoMSES Net's codebase requirements: code, narrative documentation following ODD, a licence,
metadata, and instructions that run):

* ``code/`` — the repository's tracked files (``git ls-files``), so ``./dev.sh run`` works there: the model, the
  experiments, the dashboard, the configs, the tests, the locked requirements (``lock/run.txt``, ``lock/test.txt``)
  and ``pyproject.toml`` with its ranges;
* ``docs/`` — the narrative documentation: ``ODD.md`` (the ODD protocol with its ODD+D part), ``TRACE.md`` and
  ``data_use.md``, their links pointing into ``code/docs/``;
* ``LICENSE``, ``CITATION.cff``, ``codemeta.json`` (regenerated from CITATION.cff and pyproject.toml);
* ``RUN.md`` — the two commands, how to install without them, and the exact commands for every figure and table
  of README (read from README's generated regions and :data:`README_FIGURES`).

The archive is refused while the working tree has uncommitted changes to tracked files (it would not match its
commit) unless ``--allow-dirty``; RUN.md names the commit.  Every entry carries the commit's time, so the same
commit gives the same archive.
"""

from __future__ import annotations

import argparse
import io
import posixpath
import re
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from experiments import metadata

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("ODD.md", "TRACE.md", "data_use.md")        # the narrative documentation, also at the archive's top
TOP = ("LICENSE", "CITATION.cff")
# Never archived even when found by the fallback walk (no git): environments, caches, run outputs.
SKIP_PARTS = {".git", ".venv", "results", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "dist",
              "build", "outputs", "multirun"}

# README's figures and the commands that make them (run in code/); tests/test_archive.py checks that every image
# README shows is listed here.  The run figure was checked pixel for pixel against these commands (2026-12-07).
README_FIGURES: dict[str, list[str]] = {
    "docs/figures/readme_run.png": [
        "python -m sim policy=baseline hydra.run.dir=results/readme_run/baseline",
        "python -m sim policy=five_society hydra.run.dir=results/readme_run/five_society",
        "python -m experiments.plot results/readme_run/baseline results/readme_run/five_society --out docs/figures "
        "--name readme_run",
    ],
    "docs/figures/decomposition_relocation.png": [
        "python -m experiments.decompose community=relocation --seeds 5 --sets 4 --posterior --write-readme",
        "cp results/decompose/relocation/decomposition.png docs/figures/decomposition_relocation.png",
        "cp results/decompose/relocation/decomposition.csv docs/decomposition/relocation/decomposition.csv",
    ],
    "docs/figures/pilot_withdrawal_en.png": [
        "python -m experiments.pilot_withdrawal --write-readme   # also docs/figures/pilot_withdrawal_zh.png",
    ],
    "docs/discovery/box.png": [
        "python -m experiments.bands --policies baseline,five_society --sets 96 --seeds 2 "
        "--param behaviour.structural_share=0.04:0.26 --param community.satisfaction_initial=0.5:0.9 "
        "--out results/discover_study community=urban_traditional",
        "python -m experiments.discover results/discover_study --target 'completion_rate>=85%' --policy five_society "
        "--out docs/discovery",
    ],
}
# What a README table's caption command needs run first (its inputs), by the command's module.
PREREQUISITES = {
    "experiments.readme_tables": ["python -m experiments.replications   # the seeds per preset "
                                  "(results/replications/summary.json)"],
}
# README's generated tables whose caption gives the command in short (the tool's bare name): the exact commands.
README_TABLE_COMMANDS = {
    "readme_tables:policies": ["python -m experiments.readme_tables --tables policies,presets --write-readme"],
    "readme_tables:presets": ["python -m experiments.readme_tables --tables policies,presets --write-readme"],
}
# README's tables that no caption names a command for: their commands.
README_TABLES_WITHOUT_CAPTION = {
    "speed": ["python -m benchmarks.run   # writes benchmarks/results.md; README's speed table is copied from it"],
}


class ArchiveError(RuntimeError):
    """The archive cannot be built as asked (the message says why and what to do)."""


@dataclass(frozen=True)
class Output:
    """A figure or table of README and the commands that regenerate it."""

    kind: str          # "figure" or "table"
    name: str          # the image's path, or the README region's name
    commands: list[str]


def _git(*args: str, root: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def tracked_files(root: Path = ROOT) -> list[str]:
    """The files of the repository (``git ls-files``), else every file outside :data:`SKIP_PARTS`."""
    try:
        names = _git("ls-files", "-z", root=root).split("\0")
        return sorted(n for n in names if n and (root / n).is_file())
    except (OSError, subprocess.CalledProcessError):
        out = []
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root)
            if p.is_file() and not SKIP_PARTS.intersection(rel.parts) and not rel.name.endswith(".egg-info"):
                out.append(rel.as_posix())
        return out


def commit_info(root: Path = ROOT) -> tuple[str, int, bool]:
    """(commit, its Unix time, whether tracked files have uncommitted changes); ('unknown', 0, False) without git."""
    try:
        sha = _git("rev-parse", "HEAD", root=root).strip()
        when = int(_git("show", "-s", "--format=%ct", "HEAD", root=root).strip())
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no", root=root).strip())
        return sha, when, dirty
    except (OSError, subprocess.CalledProcessError, ValueError):
        return "unknown", 0, False


def readme_outputs(readme: str) -> list[Output]:
    """Every figure README shows and every generated table (a ``<!-- name:start -->`` region), with its commands.

    A table's command is the one its caption gives ("Generated by `…`"), after what that command needs first
    (:data:`PREREQUISITES`).  Raises ArchiveError for a figure not in :data:`README_FIGURES` or a region whose
    caption names no command."""
    outputs = []
    for path in dict.fromkeys(re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", readme)):
        if path not in README_FIGURES:
            raise ArchiveError(f"README shows {path}, but experiments/archive.py README_FIGURES does not say which "
                               "commands make it: add them")
        outputs.append(Output("figure", path, README_FIGURES[path]))
    for name, body in re.findall(r"<!-- ([\w:]+):start -->(.*?)<!-- \1:end -->", readme, re.S):
        found = README_TABLE_COMMANDS.get(name) or re.findall(r"Generated by `([^`]+)`", body)
        if not found:
            raise ArchiveError(f"README's table {name} names no command (no 'Generated by `…`' in its caption)")
        before = [p for c in found for mod, ps in PREREQUISITES.items() if f"-m {mod}" in c for p in ps]
        outputs.append(Output("table", name, list(dict.fromkeys([*before, *found]))))
    for name, commands in README_TABLES_WITHOUT_CAPTION.items():
        outputs.append(Output("table", name, commands))
    return outputs


def rewrite_links(text: str, prefix: str = "../code/docs/") -> str:
    """A page of docs/ moved to the archive's top docs/: its relative links pointed into ``code/docs/``."""
    def fix(m: re.Match) -> str:
        target = m.group(2)
        if re.match(r"^([a-z]+:|#|/)", target):
            return m.group(0)
        path, hashmark, anchor = target.partition("#")
        if path in DOCS:  # a sibling also at the top
            return m.group(0)
        return f"{m.group(1)}({posixpath.normpath(prefix + path)}{hashmark}{anchor})"
    return re.sub(r"(\])\(([^)\s]+)\)", fix, text)


def run_md(version: str, commit: str, outputs: list[Output], lock_counts: dict[str, int]) -> str:
    lines = [
        f"# Five-society linkage community simulation {version} — how to run it · 如何运行",
        "",
        f"Built by `python -m experiments.archive` from commit `{commit}`. The model's description is "
        "[docs/ODD.md](docs/ODD.md), the evidence that it is fit for its purpose [docs/TRACE.md](docs/TRACE.md), "
        "how each data source is used [docs/data_use.md](docs/data_use.md); the project's own README is "
        "[code/README.md](code/README.md) (中文：[code/README.zh-CN.md](code/README.zh-CN.md)).",
        "",
        "| folder or file | what |",
        "|---|---|",
        "| `code/` | the model (`sim/`), its studies (`experiments/`), the workshop dashboard (`dashboard/`), the "
        "configs, the tests, `pyproject.toml` (dependency ranges) and `lock/` (the locked requirements) |",
        "| `docs/` | ODD.md, TRACE.md, data_use.md (the other documents: `code/docs/`) |",
        "| `LICENSE`, `CITATION.cff`, `codemeta.json` | MIT licence; how to cite; software metadata |",
        "",
        "## Two commands · 两条命令",
        "",
        "On a machine with Python ≥ 3.12 (Linux, macOS or WSL), from `code/`:",
        "",
        "```bash",
        "cd code",
        "./dev.sh run     # finds Python ≥ 3.12, makes .venv, installs lock/run.txt, runs the default scenario",
        "./dev.sh test    # installs lock/test.txt (and, with root, a CJK font and Chromium), runs the test suite",
        "```",
        "",
        f"`lock/run.txt` ({lock_counts.get('run', 0)} packages) and `lock/test.txt` ({lock_counts.get('test', 0)}) "
        "pin every package to the version the tests passed with, each file checked against its hash. Without "
        "`dev.sh`:",
        "",
        "```bash",
        "cd code",
        "python3.12 -m venv .venv",
        ".venv/bin/pip install --require-hashes --no-deps -r lock/run.txt",
        ".venv/bin/pip install --no-deps -e .",
        ".venv/bin/python -m sim                  # the default scenario: results/runs/<date>/<time>/",
        "```",
        "",
        "`UNLOCKED=1 ./dev.sh run` installs from pyproject.toml's ranges instead (newer versions, same code).",
        "",
        "## Every figure and table of README · README 中每张图和表的生成命令",
        "",
        "Run from `code/` in the environment above (`source .venv/bin/activate`). Studies write into `results/`; "
        "the commands that end in `--write-readme` also rewrite README's table; each study's time is in README.",
        "",
    ]
    for o in outputs:
        title = f"Figure `{o.name}`" if o.kind == "figure" else f"Table `{o.name}`"
        lines += [f"### {title}", "", "```bash", *o.commands, "```", ""]
    lines += ["## Licence and citation", "",
              "MIT ([LICENSE](LICENSE)). Cite as [CITATION.cff](CITATION.cff) says, with the version, and the "
              "configuration and seed of your runs (every run's manifest.json records them).", ""]
    return "\n".join(lines)


def build(out_dir: Path, allow_dirty: bool = False, root: Path = ROOT) -> Path:
    """Write the archive into ``out_dir``; returns its path (written to a temporary name, then renamed)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    version = project["version"]
    commit, when, dirty = commit_info(root)
    if dirty and not allow_dirty:
        raise ArchiveError("the working tree has uncommitted changes to tracked files: commit them (the archive "
                           "names its commit) or pass --allow-dirty")
    files = tracked_files(root)
    for needed in ("pyproject.toml", "dev.sh", "LICENSE", "CITATION.cff", "lock/run.txt", "lock/test.txt",
                   *(f"docs/{d}" for d in DOCS)):
        if needed not in files:
            raise ArchiveError(f"{needed} is missing from {root} (or not tracked by git): the archive needs it")
    try:
        codemeta = metadata.render(root)
    except metadata.MetadataError as exc:
        raise ArchiveError(f"codemeta.json: {exc}") from None
    outputs = readme_outputs((root / "README.md").read_text(encoding="utf-8"))
    counts = {extra: len(re.findall(r"^[A-Za-z0-9_.\-]+==", (root / "lock" / f"{extra}.txt").read_text(
        encoding="utf-8"), re.M)) for extra in ("run", "test")}
    base = f"five-society-sim-{version}"
    stamp = _zip_time(when)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{base}.zip"
    tmp = out_dir / f".{base}.zip.part"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        def add(name: str, data: bytes, executable: bool = False) -> None:
            info = zipfile.ZipInfo(f"{base}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            zf.writestr(info, data)

        add("RUN.md", run_md(version, commit, outputs, counts).encode())
        for name in TOP:
            add(name, (root / name).read_bytes())
        add("codemeta.json", codemeta.encode())
        for doc in DOCS:
            add(f"docs/{doc}", rewrite_links((root / "docs" / doc).read_text(encoding="utf-8")).encode())
        for name in files:
            path = root / name
            data = codemeta.encode() if name == "codemeta.json" else path.read_bytes()
            add(f"code/{name}", data, executable=bool(path.stat().st_mode & 0o111))
    tmp.write_bytes(buf.getvalue())
    tmp.replace(target)
    return target


def _zip_time(unix: int) -> tuple[int, int, int, int, int, int]:
    import time
    t = time.gmtime(max(unix, 315532800))  # zip cannot hold a time before 1980
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.archive", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("dist"), help="output folder (default: dist)")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="archive the working tree even with uncommitted changes to tracked files")
    args = parser.parse_args(argv)
    try:
        path = build(args.out, args.allow_dirty)
    except ArchiveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = path.stat().st_size / 1e6
    print(f"wrote {path} ({size:.1f} MB): RUN.md, code/, docs/ (ODD, TRACE, data use), LICENSE, CITATION.cff, "
          "codemeta.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
