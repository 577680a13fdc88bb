"""Presentation shared by the analysis (experiments) and the workshop dashboard.

One place for what a chart term is called (labels from :mod:`sim.glossary`), the seaborn theme with
a CJK font for Chinese, and how a figure is saved or turned into PNG bytes.  How a value is written
(per cent for fractions, percentage points for their differences) is sim.kpi_table's
:func:`format_value`, re-exported here so that the command line, the reports and the dashboard
write numbers the same way.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib import font_manager

from sim.glossary import GLOSSARY, label
from sim.indicators import TARGETS_BY_KEY
from sim.kpi_table import format_value, is_fraction

__all__ = ["CJK_FONTS", "DPI", "TARGETS_BY_KEY", "FontError", "distinct_formatter", "find_cjk_font",
           "format_value", "is_fraction", "kpi_label", "png_bytes", "save_figure", "setup_theme", "term",
           "themed"]

# Run totals whose label the glossary already holds under another key.
_ALIASES = {"fund_inflow_run": "fund_in_total_run", "fund_outflow_run": "fund_out_total_run"}
_CHART_KINDS = ("output", "term")  # the glossary rows that name chart and table terms

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei",
             "Microsoft YaHei", "PingFang SC")
DPI = 150


class FontError(RuntimeError):
    """No CJK font for Chinese labels."""


def term(key: str, lang: str = "en") -> str:
    """A chart term (an output column or a term of the glossary), else the key itself."""
    entry = GLOSSARY.get(key)
    if entry is not None and entry.kind in _CHART_KINDS:
        return label(key, lang)
    return key


def kpi_label(key: str, lang: str = "en") -> str:
    """The label of a KPI or indicator; run totals (``*_run``) as '<weekly label> (run total)'."""
    key = _ALIASES.get(key, key)
    if key in GLOSSARY and GLOSSARY[key].kind in _CHART_KINDS:
        return term(key, lang)
    base = key.removesuffix("_run")
    if base != key and base in GLOSSARY and GLOSSARY[base].kind == "output":
        return f"{label(base, lang)} {term('run_total', lang)}"
    return key


def distinct_formatter(key: str, values) -> Callable[[float], str]:
    """A formatter that tells the given values apart: :func:`format_value`, or more decimals if needed."""
    finite = {float(v) for v in values if v is not None and np.isfinite(v)}

    def distinct(fmt) -> bool:
        return len({fmt(v) for v in finite}) == len(finite)

    if distinct(lambda v: format_value(key, v)):
        return lambda v: format_value(key, v)
    scale, unit = (100, " %") if is_fraction(key) else (1, "")
    for decimals in range(1, 9):
        def fmt(v, d=decimals):
            return f"{scale * v:,.{d}f}{unit}"
        if distinct(fmt):
            break
    return fmt


# ---------------------------------------------------------------------------------------------
# Theme and fonts
# ---------------------------------------------------------------------------------------------

def find_cjk_font(candidates: Sequence[str] | None = None) -> str | None:
    """The first of ``candidates`` (default: CJK_FONTS, in order of preference) matplotlib knows, or None."""
    names = CJK_FONTS if candidates is None else candidates
    known = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in names if name in known), None)
    if found is None:
        # matplotlib caches the font list (~/.cache/matplotlib); a font installed after the cache
        # was written is missing from it until the list is rebuilt.
        font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
        known = {f.name for f in font_manager.fontManager.ttflist}
        found = next((name for name in names if name in known), None)
    return found


def setup_theme(lang: str = "en") -> str | None:
    """Seaborn's theme for our charts; for Chinese, with a CJK font (its name is returned).

    ``sns.set_theme`` resets the fonts, so the font goes through its ``rc``.
    """
    rc: dict = {"axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9, "figure.titlesize": 12}
    font = None
    if lang == "zh":
        font = find_cjk_font()
        if font is None:
            raise FontError("no CJK font found for --lang zh (looked for: " + ", ".join(CJK_FONTS) +
                            "); install one, e.g. `apt-get install fonts-noto-cjk` (scripts/install-test-deps.sh), "
                            "then remove matplotlib's font cache (~/.cache/matplotlib) — or use --lang en")
        rc.update({"font.family": [font, "DejaVu Sans"], "axes.unicode_minus": False})
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind", rc=rc)
    return font


_THEME_LOCK = threading.Lock()  # the theme is global matplotlib state: one themed figure at a time


@contextlib.contextmanager
def themed(lang: str = "en") -> Iterator[str | None]:
    """:func:`setup_theme` for the duration of a ``with`` block, then matplotlib's settings as they were.

    For a program that draws from several threads (the dashboard's page and its downloads)."""
    with _THEME_LOCK, matplotlib.rc_context():
        yield setup_theme(lang)


def save_figure(fig, folder: Path, stem: str, pdf: bool = False) -> list[Path]:
    """Save ``fig`` as PNG (dpi 150) and SVG (and PDF) into ``folder``; closes it; returns the paths."""
    paths = [folder / f"{stem}.{ext}" for ext in ("png", "svg", *(("pdf",) if pdf else ()))]
    fig.savefig(paths[0], dpi=DPI)
    # keep the layout of the first save: the other formats need not lay the figure out again
    # (matplotlib refuses for some figures with a colour bar; those are laid out again)
    with contextlib.suppress(RuntimeError):
        fig.set_layout_engine("none")
    for p in paths[1:]:
        fig.savefig(p, dpi=DPI)
    plt.close(fig)
    return paths


def png_bytes(fig) -> bytes:
    """``fig`` as PNG (dpi 150), in memory (e.g. for a download button)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
