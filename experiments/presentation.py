"""Presentation shared by the analysis (experiments) and the workshop dashboard.

One place for how a value is written (per cent for fractions, percentage points for their
differences), what a chart term is called (labels from :mod:`sim.glossary`), the seaborn theme
with a CJK font for Chinese, and how a figure is saved.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib import font_manager

from sim.glossary import COLUMNS, TERMS, label
from sim.indicators import TARGETS

# Run totals whose label the glossary already holds under another key.
_ALIASES = {"fund_inflow_run": "fund_in_total_run", "fund_outflow_run": "fund_out_total_run"}

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei",
             "Microsoft YaHei", "PingFang SC")
DPI = 150
TARGETS_BY_KEY = {t.key: t for t in TARGETS}


class FontError(RuntimeError):
    """No CJK font for Chinese labels."""


def term(key: str, lang: str = "en") -> str:
    """A chart term from the glossary, else the key itself."""
    if key in COLUMNS or key in TERMS:
        return label(key, lang)
    return key


def kpi_label(key: str, lang: str = "en") -> str:
    """The label of a KPI or indicator; run totals (``*_run``) as '<weekly label> (run total)'."""
    key = _ALIASES.get(key, key)
    if key in COLUMNS or key in TERMS:
        return term(key, lang)
    base = key.removesuffix("_run")
    if base != key and base in COLUMNS:
        return f"{label(base, lang)} {term('run_total', lang)}"
    return key


def is_fraction(key: str) -> bool:
    """True for indicators measured as a fraction (shown in per cent)."""
    target = TARGETS_BY_KEY.get(key)
    return (key in COLUMNS and COLUMNS[key][2] == "fraction") or (target is not None and target.unit == "fraction")


def format_value(key: str, value: float, diff: bool = False, lang: str = "en") -> str:
    """A value as shown in charts and tables: fractions in per cent (a difference of fractions in
    percentage points, ``diff=True``), others with 4 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if is_fraction(key):
        return f"{100 * value:.3g} {term('pp', lang)}" if diff else f"{100 * value:.3g} %"
    return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


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
