"""docs/TRACE.md (issue 26): the eight TRACE elements, each pointing at evidence that exists — no link, test name,
file or command in it dangles."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from conftest import REPO

TRACE = REPO / "docs" / "TRACE.md"
ELEMENTS = ("Problem formulation", "Model description", "Data evaluation", "Conceptual model evaluation",
            "Implementation verification", "Model output verification", "Model analysis",
            "Model output corroboration")


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", path.read_text(encoding="utf-8"), re.M)}


def dangling(text: str, base: Path) -> list[str]:
    """Every reference in ``text`` (a Markdown page in folder ``base``) that points at nothing: a link or image to a
    missing file or heading, ``tests/<file>.py::<test>`` without that test, a backticked repository path that does
    not exist, a ``python -m <module>`` that cannot be found, a ``python <script>`` that is missing."""
    bad = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+://", target):
            continue
        file, _, anchor = target.partition("#")
        path = (base / file).resolve() if file else None
        if path is not None and not path.exists():
            bad.append(f"link {target}")
        elif anchor and path is not None and path.suffix == ".md" and anchor not in anchors(path):
            bad.append(f"anchor {target}")
    for file, name in re.findall(r"(tests/test_\w+\.py)::(\w+)", text):
        source = REPO / file
        if not source.is_file() or not re.search(rf"^def {name}\(", source.read_text(encoding="utf-8"), re.M):
            bad.append(f"test {file}::{name}")
    for span in re.findall(r"`([^`]+)`", text):
        command = re.match(r"^python -m ([\w.]+)", span)
        if command and importlib.util.find_spec(command.group(1)) is None:
            bad.append(f"command {span}")
        script = re.match(r"^(?:python|bash) ([\w/.-]+\.(?:py|sh))", span) or re.match(r"^\./([\w.-]+\.sh)", span)
        if script and not (REPO / script.group(1)).is_file():
            bad.append(f"script {span}")
        path = re.fullmatch(r"[\w./-]+/[\w.-]+\.(?:py|md|png|csv|json|yaml|toml|cff|sh)", span)
        if path and not (REPO / span).exists():
            bad.append(f"path {span}")
    return bad


def test_the_checker_finds_what_dangles(tmp_path):
    (tmp_path / "a.md").write_text("# Some heading\n", encoding="utf-8")
    text = ("[ok](a.md#some-heading) [gone](b.md) [no anchor](a.md#other) "
            "`tests/test_trace.py::test_the_checker_finds_what_dangles` `tests/test_trace.py::test_no_such_test` "
            "`python -m experiments.discover` `python -m experiments.no_such_module` `sim/no_such_file.py` "
            "`sim/model/indicators.py` `python scripts/no_such_script.py`")
    assert dangling(text, tmp_path) == ["link b.md", "anchor a.md#other", "test tests/test_trace.py::test_no_such_test",
                                        "command python -m experiments.no_such_module", "path sim/no_such_file.py",
                                        "script python scripts/no_such_script.py"]


def test_trace_has_the_eight_elements_in_order_each_with_evidence():
    text = TRACE.read_text(encoding="utf-8")
    headings = re.findall(r"^## (\d)\. ([^·\n]+?) ·", text, re.M)
    assert [(int(n), name) for n, name in headings] == list(enumerate(ELEMENTS, start=1))
    sections = re.split(r"^## \d\. ", text, flags=re.M)[1:]
    for name, section in zip(ELEMENTS, sections, strict=True):
        tests = re.findall(r"tests/test_\w+\.py::\w+", section)
        links = re.findall(r"\]\(([^)\s]+)\)", section)
        assert tests, f"{name}: no test named"
        assert links, f"{name}: no document, figure or table linked"


def test_nothing_in_trace_dangles():
    assert dangling(TRACE.read_text(encoding="utf-8"), TRACE.parent) == []
