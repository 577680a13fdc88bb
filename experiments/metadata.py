"""codemeta.json from CITATION.cff and pyproject.toml (issue 26): ``python -m experiments.metadata [--write|--check]``.

CodeMeta (https://codemeta.github.io, version 3.0) is the software metadata a model library (CoMSES Net), Zenodo
and Software Heritage read.  It repeats what CITATION.cff (title, abstract, version, licence, authors, keywords)
and pyproject.toml (package name, version, Python version, dependencies) already say, so it is generated from
them rather than written by hand: ``--write`` writes codemeta.json, ``--check`` exits 1 if it differs (a test
runs it), no option prints it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CODEMETA = ROOT / "codemeta.json"
CITATION = ROOT / "CITATION.cff"
PYPROJECT = ROOT / "pyproject.toml"
SPDX = "https://spdx.org/licenses/"


class MetadataError(ValueError):
    """CITATION.cff and pyproject.toml disagree, or one lacks a field (the message names both)."""


def _person(entry: dict) -> dict:
    if "family-names" in entry:
        person = {"@type": "Person", "givenName": entry.get("given-names", ""), "familyName": entry["family-names"]}
        if "orcid" in entry:
            person["@id"] = entry["orcid"]
        return person
    return {"@type": "Organization", "name": entry["name"]}


def codemeta(root: Path = ROOT) -> dict:
    """The CodeMeta record of the project at ``root`` (raises MetadataError if its two sources disagree)."""
    cff = yaml.safe_load((root / CITATION.name).read_text(encoding="utf-8"))
    project = tomllib.loads((root / PYPROJECT.name).read_text(encoding="utf-8"))["project"]
    if str(cff["version"]) != project["version"]:
        raise MetadataError(f"version: CITATION.cff says {cff['version']}, pyproject.toml {project['version']}")
    if str(cff["license"]) != project["license"]:
        raise MetadataError(f"license: CITATION.cff says {cff['license']}, pyproject.toml {project['license']}")
    python = project["requires-python"]
    return {
        "@context": "https://w3id.org/codemeta/3.0",
        "@type": "SoftwareSourceCode",
        "name": cff["title"],
        "identifier": project["name"],
        "description": " ".join(str(cff["abstract"]).split()),
        "version": project["version"],
        "license": SPDX + project["license"],
        "author": [_person(a) for a in cff["authors"]],
        "keywords": list(cff["keywords"]),
        "programmingLanguage": {"@type": "ComputerLanguage", "name": "Python", "version": python},
        "runtimePlatform": f"Python {python}",
        "softwareRequirements": list(project["dependencies"]),
        "applicationCategory": "Agent-based model; social simulation",
        "readme": "README.md",
        "buildInstructions": "RUN.md in the model archive (python -m experiments.archive); ./dev.sh run",
    }


def render(root: Path = ROOT) -> str:
    return json.dumps(codemeta(root), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.metadata", description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="write codemeta.json")
    group.add_argument("--check", action="store_true", help="exit 1 if codemeta.json is out of date")
    args = parser.parse_args(argv)
    try:
        text = render()
    except MetadataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.write:
        CODEMETA.write_text(text, encoding="utf-8")
        print("wrote codemeta.json")
    elif args.check:
        if not CODEMETA.is_file() or CODEMETA.read_text(encoding="utf-8") != text:
            print("codemeta.json is out of date with CITATION.cff and pyproject.toml: run python -m "
                  "experiments.metadata --write", file=sys.stderr)
            return 1
        print("codemeta.json is up to date")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
