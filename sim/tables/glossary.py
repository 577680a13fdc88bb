"""The one table of labels: the English and Chinese name of everything the project shows.

Printed tables, charts, reports and the workshop dashboard take every label from here
(``label(key, lang)``), so that a Chinese label is written once.  The table is the data file
``sim/tables/glossary.yaml``; :data:`GLOSSARY` holds its rows: for each key, its English and Chinese text,
what kind of thing it names, and, for output columns, the unit and meaning.  The kinds:

* ``output``: the columns of ``timeseries.parquet`` (a test checks that the model writes exactly
  these; the output table of docs/ODD.md is generated from them, see sim/tables/docs.py);
* ``fund_source``, ``fund_use``: where the community fund's money comes from and goes to;
* ``term``: words of printed tables, charts and reports;
* ``ui``: the dashboard's own words (controls, titles, messages);
* ``lever``: each policy lever of the dashboard (``lever_…``) and its plain-language explanation
  (``lever_…_help``), with the sources it rests on (docs/sources.md);
* ``preset``: community and policy presets, as ``community=<name>`` and ``policy=<name>``; their
  Chinese name is the preset file's own ``label_zh`` (configs/), read from there.

Texts may hold ``{fields}`` that ``label`` fills in.
"""

from __future__ import annotations

from importlib.resources import files
from typing import NamedTuple

import yaml

from sim.model.fund import INFLOW_SOURCES, OUTFLOW_USES

LANGUAGES = ("en", "zh")


class Label(NamedTuple):
    """One row of the glossary."""

    en: str
    zh: str
    kind: str          # output, fund_source, fund_use, term, ui, lever or preset
    unit: str = ""     # output columns: unit of the values
    meaning: str = ""  # output columns: what a value means (and its source)


GLOSSARY: dict[str, Label] = {}
# The table itself: sim/tables/glossary.yaml (one row per key, grouped by kind), so that a translator edits a
# table, not code.
# libyaml's safe loader where PyYAML has it (the same result, a tenth of the time: 8 against 76 ms, which every
# start of the dashboard and of a run pays)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TABLE = yaml.load(files("sim.tables").joinpath("glossary.yaml").read_text(encoding="utf-8"), Loader=_LOADER)
KINDS = ("output", "fund_source", "fund_use", "term", "ui", "lever")


def _add(kind: str, rows: dict[str, dict[str, str]]) -> None:
    """Add rows ``key: {en, zh[, unit, meaning]}`` of one kind; a key may be defined once only."""
    for key, row in rows.items():
        if key in GLOSSARY:
            raise ValueError(f"glossary key {key!r} is defined twice ({GLOSSARY[key].kind} and {kind})")
        GLOSSARY[key] = Label(str(row["en"]), str(row["zh"]), kind, row.get("unit", ""), row.get("meaning", ""))


for _kind in KINDS:
    _add(_kind, _TABLE[_kind])
    if _kind == "fund_use":
        # one output column per fund source and per use, named from the two tables above
        _src, _use = _TABLE["fund_source"], _TABLE["fund_use"]
        _add("output", {f"fund_inflow_{s}": {"en": f"Fund income: {_src[s]['en']}",
                                             "zh": f"社区基金收入：{_src[s]['zh']}", "unit": "yuan/week",
                                             "meaning": f"inflow from {_src[s]['en']}"} for s in INFLOW_SOURCES})
        _add("output", {f"fund_outflow_{u}": {"en": f"Fund spending: {_use[u]['en']}",
                                              "zh": f"社区基金支出：{_use[u]['zh']}", "unit": "yuan/week",
                                              "meaning": f"outflow to {_use[u]['en']}"} for u in OUTFLOW_USES})

# Presets: English names from the table, Chinese names from each preset file's ``label_zh`` (their one source).
_PRESET_NAMES_EN: dict[str, dict[str, str]] = _TABLE["preset_en"]


def _preset_label_zh(group: str, name: str) -> str:
    text = files("sim.configs").joinpath(group, f"{name}.yaml").read_text(encoding="utf-8")
    return str(yaml.load(text, Loader=_LOADER)["label_zh"])


for _group, _names in _PRESET_NAMES_EN.items():
    _add("preset", {f"{_group}={n}": {"en": en, "zh": _preset_label_zh(_group, n)} for n, en in _names.items()})

# The output columns as (English, Chinese, unit, meaning): a view of GLOSSARY, not a second table.
COLUMNS: dict[str, tuple[str, str, str, str]] = {
    k: (e.en, e.zh, e.unit, e.meaning) for k, e in GLOSSARY.items() if e.kind == "output"}
# Presets in the glossary's order, per group (e.g. the dashboard's menus).
PRESETS: dict[str, tuple[str, ...]] = {group: tuple(names) for group, names in _PRESET_NAMES_EN.items()}


def label(key: str, lang: str = "en", **fields: object) -> str:
    """The label of ``key`` in ``lang`` ('en' or 'zh'), its ``{fields}`` filled in from ``fields``."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; allowed: {', '.join(LANGUAGES)}")
    try:
        entry = GLOSSARY[key]
    except KeyError:
        raise KeyError(f"no label for {key!r}") from None
    text = entry.zh if lang == "zh" else entry.en
    return text.format(**fields) if fields else text


def in_display_order(group: str, names) -> list[str]:
    """Preset ``names`` of ``group`` in the glossary's order (its English names: the baseline first, five_society
    last), others after by name: the order of pages, tables and reports."""
    order = {n: k for k, n in enumerate(PRESETS.get(group, ()))}
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))


def preset_label(group: str, name: str, lang: str = "en") -> str:
    """The display name of a community or policy preset, e.g. ``preset_label("policy", "micro_fund", "zh")``."""
    return label(f"{group}={name}", lang)
