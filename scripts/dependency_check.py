"""An offline dependency check: installed versions against pyproject.toml's ranges, and against a vulnerability
database file.

``pip-audit`` asks the package index for each version it audits, which does not work where the index cannot be
reached.  This check needs no network::

    python scripts/dependency_check.py                        # every dependency installed, within its range
    python scripts/dependency_check.py --osv PyPI-all.zip     # and no installed version with a known advisory

``--osv`` reads the Open Source Vulnerabilities database's export for PyPI (a zip of JSON advisories, or a
folder of them), downloaded beforehand where there is a network:
https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip (about 30 MB).  An installed distribution is
flagged when an advisory names its version, or the version lies in an affected range (``introduced`` ≤ version
< ``fixed``, or ≤ ``last_affected``).  Every installed distribution of the environment is checked, not only this
project's direct dependencies.

Exit status: 0 nothing found; 1 a dependency missing or out of its range, or an installed version with an
advisory (each named, with the fixed versions); 2 the database file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def range_problems(pyproject: Path = PYPROJECT, extras: tuple[str, ...] = ()) -> list[str]:
    """Each dependency of ``pyproject`` (and of its ``extras``) that is not installed or not within its range."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    texts = list(project.get("dependencies", []))
    for extra in extras:
        texts += project.get("optional-dependencies", {}).get(extra, [])
    problems = []
    for text in texts:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{req.name}: not installed (pyproject.toml asks for {req.specifier or 'any version'})")
            continue
        if req.specifier and not req.specifier.contains(installed, prereleases=True):
            problems.append(f"{req.name} {installed}: outside pyproject.toml's range {req.specifier}")
    return problems


def _advisories(path: Path) -> Iterator[dict]:
    """The advisories of an OSV export: a zip of JSON files, a folder of them, or one JSON file."""
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            yield json.loads(file.read_text(encoding="utf-8"))
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.endswith(".json"):
                    yield json.loads(archive.read(name))
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
        yield from data if isinstance(data, list) else [data]


def _in_range(version: Version, events: list[dict]) -> bool:
    """Whether ``version`` lies in an OSV ECOSYSTEM range given by its events (introduced/fixed/last_affected)."""
    affected = False
    for event in sorted(events, key=_event_version):
        kind = next(iter(event))
        bound = _event_version(event)
        if kind == "introduced" and version >= bound:
            affected = True
        elif (kind == "fixed" and version >= bound) or (kind == "last_affected" and version > bound):
            affected = False
    return affected


def _event_version(event: dict) -> Version:
    value = next(iter(event.values()))
    return Version("0") if value in ("0", 0) else Version(str(value))


def installed_distributions() -> dict[str, str]:
    """Every distribution installed in this environment: canonical name → version."""
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions() if d.metadata["Name"]}


def vulnerabilities(database: Path, installed: dict[str, str] | None = None) -> list[str]:
    """Each installed distribution with an advisory in the OSV export ``database``: id, package, version, fixes."""
    installed = installed_distributions() if installed is None else installed
    found = []
    for advisory in _advisories(database):
        for affected in advisory.get("affected", []):
            package = affected.get("package", {})
            if package.get("ecosystem") != "PyPI":
                continue
            name = canonicalize_name(package.get("name", ""))
            if name not in installed:
                continue
            try:
                version = Version(installed[name])
            except InvalidVersion:
                continue
            hit = installed[name] in affected.get("versions", [])
            fixed = []
            for rng in affected.get("ranges", []):
                if rng.get("type") != "ECOSYSTEM":
                    continue
                events = rng.get("events", [])
                fixed += [e["fixed"] for e in events if "fixed" in e]
                try:
                    hit = hit or _in_range(version, events)
                except InvalidVersion:
                    continue
            if hit:
                fix = f"; fixed in {', '.join(fixed)}" if fixed else "; no fixed version listed"
                found.append(f"{advisory.get('id', '?')}: {name} {installed[name]}{fix} "
                             f"({advisory.get('summary', '').strip()[:100]})")
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python scripts/dependency_check.py", description=__doc__.splitlines()[0])
    ap.add_argument("--osv", type=Path, metavar="FILE", help="an OSV export for PyPI (zip, folder or JSON file)")
    ap.add_argument("--extras", default="", help="also check these optional dependency groups (comma-separated)")
    args = ap.parse_args(argv)
    problems = range_problems(extras=tuple(e for e in args.extras.split(",") if e))
    if args.osv is not None:
        try:
            problems += vulnerabilities(args.osv)
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            print(f"error: cannot read the vulnerability database {args.osv}: {exc}", file=sys.stderr)
            return 2
    for problem in problems:
        print(problem)
    checked = "pyproject.toml's ranges" + (f" and the advisories in {args.osv}" if args.osv else "")
    print(f"{len(problems)} problem(s) found against {checked}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
