"""docs/references.bib and the ODD's reference list generated from it (issue 27, item 11 "Citable")."""

from __future__ import annotations

import re

import pytest

from experiments import references


def test_the_five_source_documents_have_entries_cited_by_title():
    entries = references.load()
    seeds = {e.seed: e for e in entries if e.seed}
    assert sorted(seeds) == ["000", "001", "002", "003", "004"]
    for entry in seeds.values():
        assert entry.get("title") and entry.get("language") == "Chinese", entry.key
    text = references.BIB.read_text(encoding="utf-8")
    assert not re.search(r"\d{3}_[0-9a-f]{16}", text), "cite the seeds by title, not by their file names"


def test_every_author_the_odd_cites_by_year_has_an_entry():
    body = references.ODD.read_text(encoding="utf-8").split("## References")[0]
    cited = set(re.findall(r"([A-ZÀ-Ž][a-zà-ž]+)(?: et al\.| and [A-Z][a-z]+| & [A-Z][a-z]+)?,? \(?((?:19|20)\d\d)\)?",
                           body))
    surnames = " ".join(e.get("author") for e in references.load())
    people = {name for name, _ in cited if name not in ("Sichuan", "Guangdong", "Enyang", "Qionglai", "Chengdu")}
    assert people, "the ODD cites literature by author and year"
    assert all(name in surnames for name in people), sorted(n for n in people if n not in surnames)


def test_the_odd_references_are_generated_from_the_bib(capsys):
    assert references.main(["--check"]) == 0, capsys.readouterr().err
    block = references.render(references.load())
    assert "**003**" in block and "doi:10.18564/jasss.4259" in block
    assert "https://studylib.net/doc/7614857/part-1--review-of-methods-and-shortlisting" in block


def test_a_line_the_parser_cannot_read_is_named():
    with pytest.raises(references.BibError, match=r"references.bib:3: cannot read"):
        references.parse("@misc{a,\n  title = {x},\n  title {y}\n}\n")
    with pytest.raises(references.BibError, match="used twice"):
        references.parse("@misc{a,\n}\n@misc{a,\n}\n")
    with pytest.raises(references.BibError, match="exactly one"):
        references.updated("no block here", "x")
