"""How each data source is used: the data-use table of docs/data_use.md (RAT-RS style; issue 26).

    python -m experiments.data_use            # print the table (Markdown)
    python -m experiments.data_use --write    # write docs/data_use.md
    python -m experiments.data_use --check    # exit 1 if docs/data_use.md differs from what the code says

The RAT-RS reporting standard (Achter et al. 2022) asks of an agent-based model which data went into it and
for what: to *specify* it (a parameter's value or a rule taken from a source), to *calibrate* it (a figure the
calibration fits the uncertain parameters to) or to *validate* it (a figure checked but never fitted).  The table
is generated from the one place each fact is recorded, so that it cannot drift from the model:

* **specification** — the ``source=`` of every schema parameter (``sim.settings.config.iter_params``; a parameter
without
  one is an assumption, ``sim.settings.params.ASSUMPTION``);
* **calibration** and **validation** — the patterns of ``experiments.patterns`` by role (``calibration`` and
  ``plausibility`` are fitted, ``held_out`` only checked, docs/patterns.md);
* **analysis ranges** — the sources of the prior ranges the contrast sensitivity analysis and the bands draw
  from (``experiments.priors.CONTRAST_PRIORS``).

Sources are named by their tags: a seed document ``001``–``004`` (docs/sources.md, ``shared/seeds/``) or a
reference ``[K1]``, ``[D13]`` … of docs/literature.md; a range ``[T1]–[T4]`` stands for every tag in it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from experiments.calibrate import PRIORS
from experiments.patterns import FITTED_ROLES, PATTERNS
from experiments.priors import CONTRAST_PRIORS
from sim.settings.config import SimConfig
from sim.settings.params import ASSUMPTION
from sim.settings.schema import iter_params

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "data_use.md"
LITERATURE = ROOT / "docs" / "literature.md"
SOURCES = ROOT / "docs" / "sources.md"
USES = ("specification", "calibration", "validation", "analysis")

_TAG = re.compile(r"\[([A-Z]{1,2})(\d+)\](?:\s*[–-]\s*\[([A-Z]{1,2})(\d+)\])?")
_SEED = re.compile(r"(?<![\d.,\w])(00[1-9])(?![\d])")


@dataclass
class Source:
    """One data source and what each use took from it."""

    tag: str
    title: str = ""
    uses: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def tags_in(text: str) -> list[str]:
    """The source tags a text cites, in order: seed documents (``003``) and literature tags (``[K1]``; a range
    ``[T1]–[T4]`` gives T1, T2, T3, T4)."""
    out: list[str] = [f"{m.group(1)}" for m in _SEED.finditer(text)]
    for m in _TAG.finditer(text):
        letter, first = m.group(1), int(m.group(2))
        last = int(m.group(4)) if m.group(3) == letter else first
        out += [f"{letter}{i}" for i in range(first, last + 1)]
    return list(dict.fromkeys(out))


def titles() -> dict[str, str]:
    """Each known tag's short description: docs/sources.md's table of seed documents and docs/literature.md's
    reference lists (``[D1] …`` and ``- **[K1]** …``)."""
    out: dict[str, str] = {}
    for line in SOURCES.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| (00[0-9]) \| `[^`]+` \| (.+?) \|$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    for line in LITERATURE.read_text(encoding="utf-8").splitlines():
        if not re.match(r"^(Sources:|\[[A-Z]|- \*\*\[)", line):
            continue
        for piece in re.sub(r"^Sources:\s*", "", line).split(" · "):
            m = re.match(r"^\s*(?:- \*\*)?\[([A-Z]{1,2}\d+)\](?:\*\*)?\s+(.*)$", piece)
            if m and m.group(1) not in out:
                out[m.group(1)] = m.group(2).strip(" ·—")
    return out


def _short(text: str, width: int = 90) -> str:
    """A title without its web addresses (only the address if that is all there is), one line, cut at ``width``."""
    words = re.sub(r"https?://\S+", "", text).replace("|", "/").strip(" ,;·—")
    text = words or text.split()[0] if text.strip() else ""
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def collect() -> tuple[dict[str, Source], dict[str, list[str]]]:
    """(sources by tag, and for each use the items that name no source: assumptions, untagged figures)."""
    known = titles()
    sources: dict[str, Source] = {}
    untagged: dict[str, list[str]] = defaultdict(list)

    def add(text: str, use: str, item: str) -> None:
        tags = tags_in(text)
        if not tags:
            untagged[use].append(item)
        for tag in tags:
            sources.setdefault(tag, Source(tag, known.get(tag, ""))).uses[use].append(item)

    for key, f, _ in iter_params(SimConfig):
        source = str(f.metadata.get("source", ASSUMPTION))
        if source != ASSUMPTION:
            add(source, "specification", f"`{key}`")
    for p in PATTERNS:
        add(p.source, "calibration" if p.role in FITTED_ROLES else "validation", f"`{p.key}` ({p.role})")
    for key, dist in CONTRAST_PRIORS.items():
        add(dist.source, "analysis", f"`{key}`")
    return sources, untagged


def _order(tag: str) -> tuple:
    m = re.match(r"([A-Z]*)(\d+)", tag)
    return (0 if tag.startswith("0") else 1, m.group(1), int(m.group(2))) if m else (2, tag, 0)


def render() -> str:
    sources, untagged = collect()
    n_params = sum(1 for _ in iter_params(SimConfig))
    n_sourced = sum(1 for _, f, _ in iter_params(SimConfig) if f.metadata.get("source", ASSUMPTION) != ASSUMPTION)
    fitted = [p for p in PATTERNS if p.role in FITTED_ROLES]
    rows = ["| Source | What it is | Specification: parameters set from it | Calibration: fitted patterns | "
            "Validation: held-out patterns | Analysis: prior ranges |", "|---|---|---|---|---|---|"]
    for tag in sorted(sources, key=_order):
        s = sources[tag]
        cells = ["<br>".join(s.uses.get(use, [])) or "—" for use in USES]
        name = tag if tag.startswith("0") else f"[{tag}]"
        rows.append(f"| {name} | {_short(s.title) or '(not listed)'} | " + " | ".join(cells) + " |")
    counts = {use: sum(1 for s in sources.values() if s.uses.get(use)) for use in USES}
    lines = [
        "# Data use · 数据用途",
        "",
        "<!-- generated by `python -m experiments.data_use --write`; do not edit by hand "
        "(tests/test_data_use.py checks it) -->",
        "",
        "Which data source the model uses, and for what, in the form the RAT-RS reporting standard asks (Achter "
        "et al. 2022, *International Journal of Social Research Methodology* 25: 517–540: specification, "
        "calibration, validation). "
        "Generated from the model's own records: each schema parameter's `source=` (sim/settings/schema.py), the "
        "patterns of experiments/patterns.py by role (docs/patterns.md) and the prior ranges of experiments/priors.py. "
        "Seed documents (`001`–`004`) are described in [sources.md](sources.md), tagged references (`[K1]`, "
        "`[D13]` …) in [literature.md](literature.md).",
        "",
        f"- **Specification**: {n_sourced} of the schema's {n_params} parameters name a source; the other "
        f"{n_params - n_sourced} are assumptions (ODD §9, \"Parameters labelled `assumption`\"). "
        f"{counts['specification']} sources specify parameters.",
        f"- **Calibration**: {len(PRIORS)} behavioural assumptions (experiments/calibrate.py `PRIORS`: "
        + ", ".join(f"`{k}`" for k in PRIORS) + f") are fitted to {len(fitted)} patterns "
        f"({sum(p.role == 'calibration' for p in fitted)} observations, "
        f"{sum(p.role == 'plausibility' for p in fitted)} plausibility bounds from plan targets) from "
        f"{counts['calibration']} sources ([calibration.md](calibration.md)).",
        f"- **Validation**: {len(PATTERNS) - len(fitted)} held-out patterns from {counts['validation']} sources, "
        "checked on the calibrated model and never fitted ([validation.md](validation.md)).",
        f"- **Analysis**: {len(CONTRAST_PRIORS)} prior ranges of the contrast sensitivity analysis, "
        f"{counts['analysis']} of them sourced ([sensitivity.md](sensitivity.md)).",
        "",
        *rows,
        "",
        "Items that name no tagged source (their text says where the figure comes from, or that it is an "
        "assumption):",
        "",
    ]
    for use in USES:
        items = untagged.get(use, [])
        lines.append(f"- {use}: " + (", ".join(items) if items else "none"))
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.data_use", description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"write {DOC.relative_to(ROOT)}")
    group.add_argument("--check", action="store_true", help=f"exit 1 if {DOC.relative_to(ROOT)} is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC.relative_to(ROOT)}")
    elif args.check:
        current = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
        if current != text:
            print(f"{DOC.relative_to(ROOT)} is out of date: run python -m experiments.data_use --write",
                  file=sys.stderr)
            return 1
        print(f"{DOC.relative_to(ROOT)} is up to date")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
