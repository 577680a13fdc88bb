"""Generated regions of README.md and README.zh-CN.md: the text between two marker comments.

A region ``NAME`` of a command ``PREFIX`` is everything between ``<!-- PREFIX:NAME:start -->`` and
``<!-- PREFIX:NAME:end -->`` (each on a line of its own).  experiments/readme_tables.py (prefix ``readme_tables``)
and experiments/decompose.py (prefix ``decompose``) write their tables there: every README is read and every
region replaced in memory first (:func:`updated_files`), so that a missing marker fails before anything is
written, and then each file is replaced whole (:func:`write_files`, through :func:`sim.runs.outputs.write_atomic`).
``--check`` compares the regions with what the saved CSV renders (:func:`stale`).

Errors are raised as the caller's own exception class (``error``), so that each command keeps its messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


class RegionError(ValueError):
    """A README lacks a region's markers, or has them twice or in the wrong order."""


def markers(name: str, prefix: str) -> tuple[str, str]:
    """The start and end comments of the region ``name`` of ``prefix``."""
    return f"<!-- {prefix}:{name}:start -->", f"<!-- {prefix}:{name}:end -->"


def span(text: str, name: str, where: str, prefix: str, error: type[Exception] = RegionError) -> tuple[int, int]:
    """Where the region is in ``text``: (end of the start marker, start of the end marker); ``error`` naming
    ``where`` (the file) and the markers if they are missing, repeated or out of order."""
    start, end = markers(name, prefix)
    if text.count(start) != 1 or text.count(end) != 1:
        raise error(f"{where}: needs exactly one {start} and one {end} (found {text.count(start)} and "
                    f"{text.count(end)}); put them around the table, each on a line of its own")
    a, b = text.index(start) + len(start), text.index(end)
    if a > b:
        raise error(f"{where}: {end} comes before {start}")
    return a, b


def region(text: str, name: str, where: str, prefix: str, error: type[Exception] = RegionError) -> str:
    """The text between the region's markers (without the newlines next to them)."""
    a, b = span(text, name, where, prefix, error)
    return text[a:b].strip("\n")


def replace_region(text: str, name: str, content: str, where: str, prefix: str,
                   error: type[Exception] = RegionError) -> str:
    """``text`` with the region replaced by ``content`` (markers kept, each on its own line)."""
    a, b = span(text, name, where, prefix, error)
    return f"{text[:a]}\n{content.strip(chr(10))}\n{text[b:]}"


def check_files(names: Mapping[str, list[str]] | list[str], paths: Mapping[str, Path], prefix: str,
                error: type[Exception] = RegionError) -> None:
    """Raise ``error`` unless every README in ``paths`` exists and has the markers of every region in ``names``
    (one list for all, or per language): run before anything is computed or written."""
    for lang, path in paths.items():
        if not path.exists():
            raise error(f"{path}: no such file")
        text = path.read_text(encoding="utf-8")
        for name in (names[lang] if isinstance(names, Mapping) else names):
            span(text, name, str(path), prefix, error)


def updated_files(rendered: Mapping[str, Mapping[str, str]], paths: Mapping[str, Path], prefix: str,
                  error: type[Exception] = RegionError) -> dict[Path, str]:
    """The new text of each README (``rendered``: language → region → content; ``paths``: language → file), every
    region checked before anything is written."""
    out = {}
    for lang, path in paths.items():
        if not path.exists():
            raise error(f"{path}: no such file")
        text = path.read_text(encoding="utf-8")
        for name, content in rendered[lang].items():
            text = replace_region(text, name, content, str(path), prefix, error)
        out[path] = text
    return out


def stale(rendered: Mapping[str, Mapping[str, str]], paths: Mapping[str, Path], prefix: str,
          error: type[Exception] = RegionError) -> list[tuple[Path, str]]:
    """(file, region) for every README region that differs from its rendered content."""
    out = []
    for lang, path in paths.items():
        text = path.read_text(encoding="utf-8")
        out += [(path, name) for name, content in rendered[lang].items()
                if region(text, name, str(path), prefix, error) != content.strip("\n")]
    return out


def write_files(texts: Mapping[Path, str]) -> list[Path]:
    """Replace each file whole with its new text (atomically: a reader never sees half a README)."""
    from sim.runs.outputs import write_atomic

    for path, text in texts.items():
        write_atomic(path, text)
    return list(texts)
