"""docs/ODD.md's reference list, generated from docs/references.bib: ``python -m experiments.references
[--write|--check]``.

docs/references.bib holds the bibliographic entries of the five source documents (docs/sources.md quotes them)
and of the literature the ODD cites; the ODD's "References" section is rendered from it between
``<!-- BEGIN references -->`` and ``<!-- END references -->``, so a reference is written once, cited by title
(never by a file name).  ``--write`` rewrites the block, ``--check`` exits 1 if it differs (a test runs it), no
option prints it.  The parser reads the file's own format (one ``field = {value}`` per line); a line it cannot
read is an error naming the line.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIB = ROOT / "docs" / "references.bib"
ODD = ROOT / "docs" / "ODD.md"
BEGIN, END = "<!-- BEGIN references -->", "<!-- END references -->"
SEED_PREFIX = "Seed document "  # the note of a source document says which seed it is


class BibError(ValueError):
    """docs/references.bib cannot be read (the message names the line)."""


@dataclass(frozen=True)
class Entry:
    kind: str
    key: str
    fields: dict[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    @property
    def seed(self) -> str | None:
        """The seed document's number (000–004) for a source document, else None."""
        found = re.search(SEED_PREFIX + r"(\d{3})", self.get("note"))
        return found.group(1) if found else None


def parse(text: str) -> list[Entry]:
    """The entries of a .bib in this project's format."""
    entries: list[Entry] = []
    current: Entry | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        if (head := re.fullmatch(r"@(\w+)\{([\w:.-]+),", line)) is not None:
            current = Entry(head.group(1).lower(), head.group(2), {})
            entries.append(current)
        elif line == "}" and current is not None:
            current = None
        elif current is not None and (field := re.fullmatch(r"(\w+) = \{(.*)\},?", line)) is not None:
            current.fields[field.group(1).lower()] = field.group(2)
        else:
            raise BibError(f"{BIB.name}:{number}: cannot read {line!r} "
                           "(expected @type{key, or field = {value}, or })")
    keys = [e.key for e in entries]
    if len(set(keys)) != len(keys):
        raise BibError(f"{BIB.name}: a key is used twice: {sorted({k for k in keys if keys.count(k) > 1})}")
    return entries


def load(path: Path = BIB) -> list[Entry]:
    return parse(path.read_text(encoding="utf-8"))


def _plain(text: str) -> str:
    """A field's value without BibTeX's braces and escapes; a ``\\url{…}`` as its address, untouched."""
    url = re.fullmatch(r"\\url\{([^}]*)\}", text)
    if url:
        return url.group(1)
    return text.replace("\\&", "&").replace("--", "–").replace("{", "").replace("}", "")


def _authors(text: str) -> str:
    names = [n.strip() for n in _plain(text).split(" and ") if n.strip()]
    return ", ".join(names)


def reference(entry: Entry) -> str:
    """One reference as a Markdown list item: authors (year). Title. Where. doi / note. [key]"""
    g = entry.get
    parts = []
    who = _authors(g("author"))
    year = g("year")
    parts.append(f"{who} ({year})." if who and year else f"{who}." if who else f"({year})." if year else "")
    title = _plain(g("title"))
    parts.append(f"*{title}*." if entry.kind in ("book", "misc") else f"{title}.")
    venue = _plain(g("journal") or g("howpublished") or g("publisher"))
    if venue:
        volume = g("volume") + (f"({g('number')})" if g("number") else "")
        pages = _plain(g("pages"))
        edition = f"{g('edition')}th ed., " if g("edition") else ""
        venue_text = f"{edition}*{venue}*" if entry.kind == "article" else f"{edition}{venue}"
        parts.append(", ".join(filter(None, (venue_text, volume, pages))) + ".")
    if g("doi"):
        parts.append(f"doi:{g('doi')}")
    if g("note"):
        parts.append(_plain(g("note")))
    number = f"**{entry.seed}** " if entry.seed else ""
    return f"- {number}" + " ".join(p for p in parts if p) + f" `[{entry.key}]`"


def render(entries: list[Entry]) -> str:
    """The generated block: the source documents (by seed number), then the literature (by first author)."""
    seeds = sorted((e for e in entries if e.seed), key=lambda e: e.seed)
    literature = sorted((e for e in entries if not e.seed), key=lambda e: _authors(e.get("author")).lower())
    lines = [BEGIN, "<!-- generated from docs/references.bib by python -m experiments.references --write -->", "",
             "Source documents (quoted in [sources.md](sources.md); the model's parameters and rules cite them by "
             "number, 000–004):", "", *(reference(e) for e in seeds), "",
             "Literature:", "", *(reference(e) for e in literature), "",
             "Published sources on single rules and parameters: [literature.md](literature.md), by key. BibTeX: "
             "[references.bib](references.bib).", END]
    return "\n".join(lines)


def updated(text: str, block: str) -> str:
    """``text`` with its references block replaced by ``block`` (the block must be there once)."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise BibError(f"{ODD.name}: needs exactly one {BEGIN} … {END} block")
    return text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.references", description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="rewrite the references block of docs/ODD.md")
    group.add_argument("--check", action="store_true", help="exit 1 if docs/ODD.md's references are out of date")
    args = parser.parse_args(argv)
    try:
        block = render(load())
        text = ODD.read_text(encoding="utf-8")
        new = updated(text, block)
    except BibError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.write:
        ODD.write_text(new, encoding="utf-8")
        print(f"wrote the references of {ODD.relative_to(ROOT)}")
    elif args.check:
        if new != text:
            print("docs/ODD.md's references differ from docs/references.bib: run python -m experiments.references "
                  "--write", file=sys.stderr)
            return 1
        print("docs/ODD.md's references are up to date")
    else:
        print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
