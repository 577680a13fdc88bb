"""Presentation shared by the analysis (experiments) and the workshop dashboard.

One place for what a chart term is called (labels from :mod:`sim.tables.glossary`), how a scenario and a
swept parameter are named ("One-cent charity micro-fund, one cent per bottle = 2 fen"), the unit of
each value axis, the seaborn theme with a CJK font for Chinese, the journal widths and palettes of
publication figures, a check that no two tick labels overlap, and how a figure is saved or turned
into PNG bytes.  How a value is written (per cent for fractions, percentage points for their
differences) is sim.tables.kpi_table's :func:`format_value`, re-exported here so that the command line,
the reports and the dashboard write numbers the same way.
"""

from __future__ import annotations

import contextlib
import io
import re
import textwrap
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.ticker import MaxNLocator

from experiments.loading import RUN_TOTAL_COLUMNS
from sim.model.indicators import TARGETS_BY_KEY
from sim.settings.config import schema_fields
from sim.tables.glossary import GLOSSARY, label, preset_label
from sim.tables.kpi_table import format_value, is_fraction, is_money

__all__ = [
    "CJK_FONTS",
    "DPI",
    "PAGE_HEIGHT_MM",
    "PAPER_DPI",
    "TARGETS_BY_KEY",
    "WAN",
    "WIDTHS_MM",
    "FigureTooTall",
    "FontError",
    "axis_unit",
    "bracket",
    "declutter",
    "display_unit",
    "distinct_formatter",
    "figure_size",
    "figure_width",
    "find_cjk_font",
    "format_value",
    "is_fraction",
    "is_money_key",
    "kpi_label",
    "money_text",
    "overlapping_tick_labels",
    "page_size",
    "param_name",
    "param_unit",
    "png_bytes",
    "save_figure",
    "scenario_colours",
    "scenario_label",
    "scenario_names",
    "setup_theme",
    "term",
    "themed",
    "thousands",
    "value_scale",
    "wrap",
]

# Run totals whose label the glossary already holds under another key.
_ALIASES = {"fund_inflow_run": "fund_in_total_run", "fund_outflow_run": "fund_out_total_run"}
_CHART_KINDS = ("output", "term")  # the glossary rows that name chart and table terms

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei",
             "Microsoft YaHei", "PingFang SC")
DPI = 150
PAPER_DPI = 300                                # PNGs of publication figures (journals ask for ≥ 300 dpi)
WIDTHS_MM = {"single": 85, "double": 175}      # journal column widths: one column, the full page width
# Okabe & Ito's colour-blind-safe palette (black first; yellow, weak on white, last), and greys of
# well-separated lightness for figures printed in greyscale (markers and dashes tell lines apart too).
OKABE_ITO = ("#000000", "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
GREYS = ("#000000", "#7a7a7a", "#3f3f3f", "#a9a9a9", "#5c5c5c", "#c8c8c8")


class FontError(RuntimeError):
    """No CJK font for Chinese labels."""


def term(key: str, lang: str = "en", **fields: object) -> str:
    """A chart term (an output column or a term of the glossary, its ``{fields}`` filled in), else the key."""
    entry = GLOSSARY.get(key)
    if entry is not None and entry.kind in _CHART_KINDS:
        return label(key, lang, **fields)
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
# Units and the names of scenarios and parameters
# ---------------------------------------------------------------------------------------------
GROUP_KEYS = ("community", "policy", "district", "behaviour")  # config groups chosen by preset name


def unit_label(unit: str, lang: str = "en") -> str:
    """A unit as written on an axis: the glossary's ``unit:<unit>`` row, else the unit as the schema writes it."""
    return label(f"unit:{unit}", lang) if f"unit:{unit}" in GLOSSARY else unit


def axis_unit(key: str, lang: str = "en", diff: bool = False) -> str:
    """The unit of a KPI's values: % for fractions (percentage points for a difference of two), else the unit
    of its output column (sim/tables/glossary.py); a run total (``*_run``) is the weekly unit without '/week'."""
    if is_fraction(key):
        return term("pp", lang) if diff else "%"
    column = RUN_TOTAL_COLUMNS.get(key, key.removesuffix("_run"))
    entry = GLOSSARY.get(column)
    if entry is not None and entry.kind == "output":
        unit = entry.unit.removesuffix("/week") if column != key else entry.unit
    else:
        target = TARGETS_BY_KEY.get(key)
        unit = target.unit if target is not None else ""
    return unit_label(unit, lang) if unit and unit not in ("-", "0-1") else ""


def param_name(key: str, lang: str = "en") -> str:
    """The short name of a swept parameter: its glossary term ``param:<key>``, else the last part of the key in
    words."""
    if f"param:{key}" in GLOSSARY:
        return label(f"param:{key}", lang)
    return key.rsplit(".", 1)[-1].replace("_", " ")


def param_unit(key: str, lang: str = "en") -> str:
    """The unit of a parameter's values (from the schema), as written after a value; '' for none."""
    f = schema_fields().get(key)
    unit = f.metadata["unit"] if f is not None else "-"
    return "" if unit in ("-", "fraction", "0-1") else unit_label(unit, lang)


def param_value(key: str, value: object, lang: str = "en") -> str:
    """``<name> = <value> <unit>`` ("One cent per bottle = 2 fen", "一分钱/瓶 = 2 分"); a preset by its name."""
    if key in GROUP_KEYS:
        return preset_label(key, str(value), lang) if f"{key}={value}" in GLOSSARY else f"{key}={value}"
    if isinstance(value, bool | np.bool_):
        text = label("on" if value else "off", lang)
    elif isinstance(value, int | float | np.integer | np.floating):
        f = schema_fields().get(key)
        fraction = f is not None and f.metadata["unit"] == "fraction"
        text = f"{100 * float(value):g} %" if fraction else f"{float(value):,g}"
        unit = param_unit(key, lang)
        text = f"{text} {unit}" if unit else text
    else:
        text = str(value)
    return f"{param_name(key, lang)} = {text}"


def scenario_label(settings: dict[str, object], lang: str = "en") -> str:
    """A scenario's display name from its swept values, e.g. 'One-cent charity micro-fund, One cent per bottle
    = 2 fen' (zh: '一分钱公益微基金，一分钱/瓶 = 2 分')."""
    return ("，" if lang == "zh" else ", ").join(param_value(k, v, lang) for k, v in settings.items())


def named_settings(settings: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """Each scenario's swept values worth naming: a policy's lever (``policy.*``) is left out where every
    scenario of that policy holds it at the same value (the policy's own value: a baseline has 0 fen, five-society
    linkage 1 fen), so 'Baseline' is not 'Baseline, One cent per bottle = 0 fen' and the one-cent scenarios of an
    appended fen sweep still say their fen."""
    def policy(s: str) -> object:
        return settings[s].get("policy")
    out = {}
    for s, values in settings.items():
        keep = {}
        for key, value in values.items():
            if key.startswith("policy."):
                same_policy = [settings[o][key] for o in settings if policy(o) == policy(s)]
                if len({str(v) for v in same_policy}) == 1 and len(settings) > 1:
                    continue
            keep[key] = value
        out[s] = keep or values
    return out


def scenario_names(settings: dict[str, dict[str, object]], lang: str = "en") -> dict[str, str]:
    """Each scenario's display name in ``lang`` (:func:`scenario_label` of :func:`named_settings`), e.g.
    '搬迁安置社区，一分钱公益微基金，一分钱/瓶 = 2 分'; the scenario's key where it has no swept values."""
    return {s: scenario_label(v, lang) or s for s, v in named_settings(settings).items()}


NO_LINE_START = "，。、；：？！）》」』%"  # marks Chinese typesetting keeps off the start of a line


def wrap(text: str, lang: str = "en", width: int = 26) -> str:
    """``text`` broken into lines of about ``width`` characters (Chinese, twice as wide, at half that, after
    its commas or at its spaces where it can, e.g. '置信区间半宽 ÷' / '政策间标准差', never inside a bracketed note
    such as （全部杠杆）)."""
    if lang != "zh":
        return textwrap.fill(text, width, break_long_words=False, break_on_hyphens=False)
    step, lines = max(4, width // 2), [""]
    for part in text.replace("，", "，\n").split("\n"):
        chunks = []
        for piece in re.split(r"(（[^（）]*）)", part):  # a bracketed note is never broken inside
            if piece.startswith("（") or len(piece) <= step + 1:
                chunks.append(piece)
                continue
            for word in re.split(r"(?<= )", piece):  # at a space where there is one, else every `step` characters
                chunks += [word] if len(word) <= step + 1 else [word[i:i + step] for i in range(0, len(word), step)]
        for chunk in (c for c in chunks if c):
            if lines[-1] and len(lines[-1]) + len(chunk) > step + 1:  # a comma may stick out by one
                lines.append("")
            lines[-1] += chunk
    for i in range(1, len(lines)):  # no line starts with a closing mark (避头点): it stays on the line before
        while lines[i] and lines[i][0] in NO_LINE_START:
            lines[i - 1], lines[i] = lines[i - 1] + lines[i][0], lines[i][1:]
    return "\n".join(line.strip() for line in lines if line.strip())



def thousands(value: float, _=None) -> str:
    """A tick value with thousands separators, up to six significant digits, no trailing zeros and never in
    scientific notation (15,000; 1.5; 1,600,000, not 1.6e+06)."""
    if not np.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    digits = int(np.floor(np.log10(abs(value)))) + 1
    text = f"{value:,.{max(0, 6 - digits)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


WAN = 10_000  # 万: Chinese figures give money in 万元


def is_money_key(key: str) -> bool:
    """Whether ``key`` (a KPI, a weekly column or a run total ``*_run``) is an amount of money in yuan."""
    return is_money(RUN_TOTAL_COLUMNS.get(key, key.removesuffix("_run"))) or is_money(key)


def value_scale(key: str, lang: str = "en") -> float:
    """What a figure's axis divides ``key``'s values by: 10,000 for money in Chinese (万元), else 1."""
    return WAN if lang == "zh" and is_money_key(key) else 1.0


def display_unit(key: str, lang: str = "en", diff: bool = False) -> str:
    """:func:`axis_unit` as a figure's axis shows it: money in Chinese in 万元 (万元/周), ticks divided by
    :func:`value_scale`."""
    unit = axis_unit(key, lang, diff)
    return unit.replace("元", "万元", 1) if value_scale(key, lang) != 1 and unit.startswith("元") else unit


def bracket(text: str, lang: str = "en") -> str:
    """`` (text)`` after a label, or ``（text）`` in Chinese (full-width, no space: a line may not break inside)."""
    return f"（{text}）" if lang == "zh" else f" ({text})"


def money_text(value: float, lang: str = "en") -> str:
    """An amount of yuan in a report: "¥435,751" (en), "43.58 万元" (zh)."""
    if value is None or not np.isfinite(value):
        return "—"
    return f"{value / WAN:,.2f} 万元" if lang == "zh" else f"¥{value:,.0f}"


# ---------------------------------------------------------------------------------------------
# Publication figures: widths, palettes, tick labels that never overlap
# ---------------------------------------------------------------------------------------------

def figure_width(width: str) -> float:
    """A journal column width in inches: 'single' (85 mm) or 'double' (175 mm)."""
    try:
        return WIDTHS_MM[width] / 25.4
    except KeyError:
        raise ValueError(f"unknown figure width {width!r}; allowed: {', '.join(WIDTHS_MM)}") from None


PAGE_HEIGHT_MM = 240  # a journal page's text block (A4 less margins): no figure may be taller


class FigureTooTall(ValueError):
    """A figure would be taller than a page at its width; the message says how tall and what to do."""


def figure_size(width: str, height: float, what: str = "the figure") -> tuple[float, float]:
    """(width, height) in inches of a publication figure ``height`` inches tall at the journal ``width``: the one
    place the page-height limit is enforced.  Raises :class:`FigureTooTall` (naming ``what``, its height and
    the limit) when ``height`` exceeds :data:`PAGE_HEIGHT_MM`; the callers wrap facets into more columns or
    split the figure first (experiments/figures.py)."""
    inches = figure_width(width)
    if height * 25.4 > PAGE_HEIGHT_MM + 0.5:
        raise FigureTooTall(f"{what} would be {height * 25.4:.0f} mm tall at --width {width} ({WIDTHS_MM[width]} "
                            f"mm), more than a page ({PAGE_HEIGHT_MM} mm): use --width double, fewer --kpis or "
                            "fewer scenarios")
    return inches, height


def page_size(width: float, height: float) -> tuple[float, float]:
    """(width, height) in inches of a documentation figure drawn ``width`` inches wide, checked against the page:
    printed at the full text width (:data:`WIDTHS_MM` 'double') it must not be taller than
    :data:`PAGE_HEIGHT_MM` (raises :class:`FigureTooTall`)."""
    printed = height / width * WIDTHS_MM["double"]
    if printed > PAGE_HEIGHT_MM + 0.5:
        raise FigureTooTall(f"the figure ({width:.1f} × {height:.1f} in) would be {printed:.0f} mm tall printed "
                            f"{WIDTHS_MM['double']} mm wide, more than a page ({PAGE_HEIGHT_MM} mm)")
    return width, height


def scenario_colours(n: int, greyscale: bool = False) -> list[str]:
    """``n`` colours: Okabe–Ito's colour-blind-safe palette, or greys; repeated beyond its length (markers and
    dash patterns, which repeat at other lengths, keep every scenario distinct)."""
    colours = GREYS if greyscale else OKABE_ITO
    return [colours[i % len(colours)] for i in range(n)]


def _tick_labels(fig) -> list[tuple[object, object, object]]:
    """(axis, text, window extent) of every tick label ``fig`` draws (after a draw): visible, non-empty, and
    at a tick inside the axis' view (matplotlib keeps labels for ticks outside it, but does not draw them)."""
    renderer = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            slack = 1e-9 * max(1.0, abs(high - low))
            for tick in axis.get_major_ticks():
                for t in (tick.label1, tick.label2):
                    if t.get_visible() and t.get_text().strip() and low - slack <= tick.get_loc() <= high + slack:
                        out.append((axis, t, t.get_window_extent(renderer)))
    return out


GAP_PT = 1.5  # labels closer than this (points) read as one: "2,0004,000"


def _too_close(b1, b2, pad: float) -> bool:
    """Whether two boxes overlap, or come closer than ``pad`` pixels, both horizontally and vertically."""
    return min(b1.x1, b2.x1) - max(b1.x0, b2.x0) > -pad and min(b1.y1, b2.y1) - max(b1.y0, b2.y0) > -pad


def overlapping_tick_labels(fig, tolerance: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of tick labels (and panel titles and axis labels) of ``fig`` that overlap or come closer than
    :data:`GAP_PT`, and labels that stick out of the figure by more than ``tolerance`` pixels (paired with
    '<edge>'); draws the figure first."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), b) for _, t, b in _tick_labels(fig)]
    boxes += [(t.get_text(), t.get_window_extent(renderer)) for ax in fig.axes
              for t in (ax.title, ax.xaxis.label, ax.yaxis.label)
              if t.get_visible() and t.get_text().strip()]
    frame = fig.bbox
    bad = [(text, "<edge>") for text, b in boxes
           if b.x0 < frame.x0 - tolerance or b.x1 > frame.x1 + tolerance
           or b.y0 < frame.y0 - tolerance or b.y1 > frame.y1 + tolerance]
    pad = GAP_PT * fig.dpi / 72
    for i, (t1, b1) in enumerate(boxes):
        for t2, b2 in boxes[i + 1:]:
            if _too_close(b1, b2, pad):
                bad.append((t1, t2))
    return bad


def declutter(fig, rounds: int = 6) -> None:
    """Thin or turn the tick labels of every axis whose labels overlap or touch, until none do (or ``rounds``
    tries): numeric axes get fewer ticks, axes of categories turn their labels by 35° (x) or drop every other."""
    for _ in range(rounds):
        fig.canvas.draw()
        labels = _tick_labels(fig)
        pad = GAP_PT * fig.dpi / 72
        crowded = set()
        for i, (a1, _, b1) in enumerate(labels):
            for a2, _, b2 in labels[i + 1:]:
                if a1 is a2 and _too_close(b1, b2, pad):
                    crowded.add(a1)
        if not crowded:
            return
        for axis in crowded:
            locator = axis.get_major_locator()
            shown = sum(1 for a, _, _ in labels if a is axis)
            if axis.get_scale() == "log":
                continue
            if isinstance(locator, MaxNLocator) or type(locator).__name__ == "AutoLocator":
                axis.set_major_locator(MaxNLocator(nbins=max(1, shown - 2), steps=[1, 2, 2.5, 5, 10]))
            elif axis.axis_name == "x" and not any(t.get_rotation() for t in axis.get_ticklabels()):
                for t in axis.get_ticklabels():
                    t.set_rotation(35)
                    t.set_horizontalalignment("right")
            else:
                for t in [t for t in axis.get_ticklabels() if t.get_visible()][1::2]:
                    t.set_visible(False)


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


PAPER_RC = {"font.size": 7.5, "axes.titlesize": 8, "axes.labelsize": 7.5, "xtick.labelsize": 7,
            "ytick.labelsize": 7, "legend.fontsize": 7, "figure.titlesize": 9, "lines.linewidth": 1.1,
            "lines.markersize": 3.5, "axes.linewidth": 0.6, "grid.linewidth": 0.4, "xtick.major.pad": 2,
            "ytick.major.pad": 2, "axes.titlepad": 3, "axes.labelpad": 2, "legend.handlelength": 2.6,
            "pdf.fonttype": 42, "svg.fonttype": "path"}


def setup_theme(lang: str = "en", paper: bool = False) -> str | None:
    """Seaborn's theme for our charts; for Chinese, with a CJK font (its name is returned).

    ``paper``: the font sizes (7–9 pt) and line widths of a figure printed at a journal's column width, fonts
    embedded as TrueType in PDFs.  ``sns.set_theme`` resets the fonts, so the font goes through its ``rc``.
    """
    rc: dict = dict(PAPER_RC) if paper else {"axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
                                              "figure.titlesize": 12}
    font = None
    if lang == "zh":
        font = find_cjk_font()
        if font is None:
            raise FontError("no CJK font found for --lang zh (looked for: " + ", ".join(CJK_FONTS) +
                            "); install one, e.g. `apt-get install fonts-noto-cjk` (scripts/install-test-deps.sh), "
                            "then remove matplotlib's font cache (~/.cache/matplotlib) — or use --lang en")
        rc.update({"font.family": [font, "DejaVu Sans"], "axes.unicode_minus": False})
    import seaborn as sns  # here, not at the top: the dashboard's start-up does not pay for seaborn (0.9 s)

    sns.set_theme(context="paper" if paper else "notebook", style="whitegrid", palette="colorblind", rc=rc)
    return font


_THEME_LOCK = threading.Lock()  # the theme is global matplotlib state: one themed figure at a time


@contextlib.contextmanager
def themed(lang: str = "en") -> Iterator[str | None]:
    """:func:`setup_theme` for the duration of a ``with`` block, then matplotlib's settings as they were.

    For a program that draws from several threads (the dashboard's page and its downloads)."""
    with _THEME_LOCK, matplotlib.rc_context():
        yield setup_theme(lang)


CJK_LINESPACING = 1.5  # matplotlib's 1.2 leaves two lines of Chinese 0.2 em apart (Noto Sans CJK): read as one block
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")


def space_cjk_lines(fig) -> None:
    """Give every text of ``fig`` that has Chinese on more than one line :data:`CJK_LINESPACING`: matplotlib
    spaces lines by the Latin font's height, which leaves lines of Chinese characters almost touching."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        content = text.get_text()
        if "\n" in content and CJK.search(content):
            text.set_linespacing(CJK_LINESPACING)


def save_figure(fig, folder: Path, stem: str, pdf: bool = False, dpi: int = DPI) -> list[Path]:
    """Save ``fig`` as PNG (at ``dpi``) and SVG (and PDF) into ``folder``; closes it; returns the paths."""
    space_cjk_lines(fig)
    paths = [folder / f"{stem}.{ext}" for ext in ("png", "svg", *(("pdf",) if pdf else ()))]
    fig.savefig(paths[0], dpi=dpi)
    # keep the layout of the first save: the other formats need not lay the figure out again
    # (matplotlib refuses for some figures with a colour bar; those are laid out again)
    with contextlib.suppress(RuntimeError):
        fig.set_layout_engine("none")
    for p in paths[1:]:
        fig.savefig(p, dpi=dpi)
    plt.close(fig)
    return paths


def png_bytes(fig) -> bytes:
    """``fig`` as PNG (dpi 150), in memory (e.g. for a download button)."""
    space_cjk_lines(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
