"""Reports of the studies (compare, calibrate, sensitivity, replications) from one Jinja2 template.

A report is a list of blocks — headings, paragraphs, warnings, bullet lists, tables, figures and
code — written once and rendered twice by ``templates/report.j2``: as Markdown (figures linked
beside it) and as a self-contained HTML page (figures embedded, inline CSS, no scripts), which a
participant can open offline or send by e-mail.  Table cells are formatted here: numbers with
``floatfmt`` (4 significant digits by default), missing values as empty cells.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from sim.tables.glossary import label

TEMPLATE = "report.j2"
_ENV = jinja2.Environment(loader=jinja2.PackageLoader("experiments", "templates"), autoescape=False,
                          keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                          undefined=jinja2.StrictUndefined)


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2
    kind: str = "heading"


@dataclass(frozen=True)
class Paragraph:
    """Prose; `backticks` mark code (a command, a file)."""

    text: str
    kind: str = "paragraph"


@dataclass(frozen=True)
class Alert:
    """A warning the reader must not miss (too few seeds, runs left out)."""

    text: str
    kind: str = "warning"


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]
    kind: str = "bullets"


@dataclass(frozen=True, eq=False)  # a DataFrame has no single truth value to compare by
class Table:
    """A DataFrame shown as a table (its index is not shown: reset it first if it carries data)."""

    data: pd.DataFrame
    floatfmt: str = ".4g"
    kind: str = "table"

    @property
    def header(self) -> list[str]:
        return [str(c) for c in self.data.columns]

    @property
    def rows(self) -> list[list[str]]:
        return [[cell(v, self.floatfmt) for v in row] for row in self.data.itertuples(index=False)]


@dataclass(frozen=True)
class Figure:
    """A PNG beside the report (``file`` relative to the report's folder) with its caption."""

    file: str
    caption: str
    kind: str = "figure"


@dataclass(frozen=True)
class Code:
    text: str
    kind: str = "code"


Block = Heading | Paragraph | Alert | Bullets | Table | Figure | Code


def cell(value: object, floatfmt: str = ".4g") -> str:
    """One table cell as text: numbers with ``floatfmt``, missing values empty."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else format(value, floatfmt)
    return str(value)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code_spans(html_text: str) -> str:
    """`text` in escaped HTML as <code>text</code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", str(html_text))


def _embed(file: str, folder: Path) -> str:
    return "data:image/png;base64," + base64.b64encode((folder / file).read_bytes()).decode("ascii")


def render(blocks: Sequence[Block], fmt: str = "md", *, title: str = "", folder: Path | None = None,
           figure_prefix: str = "", lang: str = "en") -> str:
    """The report as Markdown (``fmt="md"``) or self-contained HTML (``fmt="html"``).

    HTML embeds each figure from ``folder``; Markdown links it as ``figure_prefix + file`` (a
    report written outside the figures' folder links them with that folder as the prefix).
    """
    if fmt not in ("md", "html"):
        raise ValueError(f"fmt must be 'md' or 'html', not {fmt!r}")
    if fmt == "html" and folder is None and any(isinstance(b, Figure) for b in blocks):
        raise ValueError("an HTML report with figures needs the figures' folder to embed them")
    env = _ENV.overlay()
    env.filters.update(md_cell=_md_cell, code_spans=_code_spans, embed=lambda file: _embed(file, folder))
    return env.get_template(TEMPLATE).render(blocks=list(blocks), fmt=fmt, title=title,
                                             figure_prefix=figure_prefix, lang=lang,
                                             warning_word=label("rep_warning", lang))


def markdown_table(df: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """A DataFrame as a Markdown table (the report template's table, on its own)."""
    return render([Table(df, floatfmt)])


def write_report(blocks: Sequence[Block], folder: Path, title: str, stem: str = "report",
                 lang: str = "en") -> list[Path]:
    """Write ``<stem>.md`` and ``<stem>.html`` into ``folder`` (beside the figures); returns both paths."""
    paths = [folder / f"{stem}.md", folder / f"{stem}.html"]
    for path, fmt in zip(paths, ("md", "html"), strict=True):
        path.write_text(render(blocks, fmt, title=title, folder=folder, lang=lang), encoding="utf-8")
    return paths
