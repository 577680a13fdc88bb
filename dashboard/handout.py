"""The one-page workshop handout: the setup, the key indicators of A and B against the plan targets, and the
charts, as HTML printed to PDF by Chromium (``--print-to-pdf``; the system's CJK font sets the Chinese).

``python -m dashboard.handout --scenario purchase --weeks 260 --lang zh --out handout.pdf`` makes one from the
command line; the page's "Handout (PDF)" button makes one of the runs as shown.
"""

from __future__ import annotations

import argparse
import base64
import html
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from dashboard import export
from dashboard.figures import FONT_STACK
from dashboard.indicators import KpiRow, key_indicators, shown_value, target_text
from dashboard.levers import LEVER_OF, value_text
from dashboard.session import SIDES, Comparison
from sim.model.indicators import KEY_INDICATORS
from sim.tables.glossary import label as t
from sim.tables.glossary import preset_label

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT_S = 120
PRINTABLE_HEIGHT_MM = 273  # A4's 297 mm less the page's margins (11 mm top and bottom) and 2 mm to spare


def kpi_table_html(names: dict[str, str], kpis: dict[str, list[KpiRow]], lang: str, size: str = "1.25rem") -> str:
    """The key indicators of A and B against the plan targets as one table: green when met, red when not (the
    page's presentation mode and the handout)."""
    def cell(row: KpiRow) -> str:
        color = "#555555" if row.met is None else ("#1B7F3B" if row.met else "#C0392B")
        mark = "" if row.met is None else ("✓ " if row.met else "✗ ")
        value = html.escape(shown_value(row.key, row.value, lang))
        return f"<td style='color:{color};text-align:right;white-space:nowrap'>{mark}{value}</td>"

    head = "".join(f"<th style='text-align:right'>{html.escape(names[s].split(':')[0])}</th>" for s in SIDES)
    rows = []
    for i, key in enumerate(KEY_INDICATORS):
        a, b = kpis["A"][i], kpis["B"][i]
        rows.append(f"<tr><td>{html.escape(t(key, lang))}</td>{cell(a)}{cell(b)}"
                    f"<td style='color:#555555;white-space:nowrap;padding-left:1em'>"
                    f"{html.escape(target_text(key, lang))}</td></tr>")
    shown = " · ".join(html.escape(names[s]) for s in SIDES)
    return (f"<p style='font-size:{size};margin:0 0 .3rem 0'>{shown}</p>"
            f"<table style='font-size:{size};width:100%;border-collapse:collapse;line-height:1.45'>"
            f"<tr><th></th>{head}<th></th></tr>{''.join(rows)}</table>")


def _png(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _setup_rows(comp: Comparison, lang: str) -> list[tuple[str, str]]:
    first = comp.initial["A"]
    rows = [(t("community_preset", lang), preset_label("community", first.community, lang)),
            (t("seed", lang), str(comp.seed)),
            (t("weeks", lang), t("week_of", lang, week=comp.week, steps=comp.steps))]
    for side in SIDES:
        sc = comp.initial[side]
        moved = "; ".join(f"{t(LEVER_OF[k].term, lang)} {value_text(LEVER_OF[k], v, lang)}"
                          for k, v in sc.changed.items())
        shown = preset_label("policy", sc.policy, lang) + (f" ({moved})" if moved else "")
        rows.append((t(f"scenario_{side}", lang), shown))
    rows += [(t("lever_changes", lang), text) for _week, _side, text in comp.events(lang)]
    return rows


def handout_html(comp: Comparison, lang: str = "zh", title: str | None = None, story: str | None = None,
                 question: str | None = None, prediction: str | None = None) -> str:
    """One A4 page: the scenario's story, the setup, the key indicators against the targets, the charts."""
    names = comp.names(lang)
    ts = comp.timeseries()
    kpis = {side: key_indicators(comp.timeseries(side)) for side in SIDES}
    indicators = export.indicators_png(ts, names, lang, comp.steps, comp.events(lang))
    fund = export.fund_png(ts, names, lang, comp.steps)
    setup = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _setup_rows(comp, lang))
    parts = [f"<h1>{html.escape(title or t('app_title', lang))}</h1>"]
    if story:
        parts.append(f"<p class='story'>{html.escape(story)}</p>")
    if question:
        answer = "" if not prediction else \
            f" <b>{html.escape(t('ws_your_prediction', lang))}:</b> {html.escape(prediction)}"
        parts.append(f"<p class='predict'><b>{html.escape(t('ws_predict_first', lang))}</b> "
                     f"{html.escape(question)}{answer}</p>")
    parts += [f"<table class='setup'>{setup}</table>",
              f"<h2>{html.escape(t('key_indicators', lang))}</h2>",
              kpi_table_html(names, kpis, lang, size="10pt"),
              f"<p class='note'>{html.escape(t('kpi_note', lang))}</p>",
              f"<img class='chart' src='{_png(indicators)}' alt='{html.escape(t('download_png_indicators', lang))}'>",
              f"<img class='fund' src='{_png(fund)}' alt='{html.escape(t('download_png_fund', lang))}'>",
              f"<p class='note'>{html.escape(t('handout_footer', lang, day=date.today().isoformat()))}</p>"]
    style = (f"@page {{size: A4; margin: 11mm 12mm;}} body {{font-family: {FONT_STACK}; font-size: 10pt; "
             "color: #222; margin: 0;} h1 {font-size: 16pt; margin: 0 0 4pt 0;}"
             "h2 {font-size: 12pt; margin: 6pt 0 2pt 0;}"
             ".story, .predict {margin: 2pt 0;} .setup {border-collapse: collapse; margin: 4pt 0; font-size: 9pt;}"
             ".setup th {text-align: left; padding-right: 8pt; color: #555; font-weight: normal; white-space: nowrap;}"
             ".note {font-size: 8pt; color: #666; margin: 2pt 0;}"
             # one page whatever the text's length: the page is a column of the printable height, in which the two
             # charts share what the text leaves (3 : 1.4) and shrink to it
             f".page {{height: {PRINTABLE_HEIGHT_MM}mm; display: flex; flex-direction: column; overflow: hidden;}}"
             ".page > * {flex: none;} img.chart {flex: 3 1 0; min-height: 0; width: 100%; object-fit: contain;}"
             "img.fund {flex: 1.4 1 0; min-height: 0; width: 100%; object-fit: contain;}")
    return (f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title or t('app_title', lang))}</title><style>{style}</style></head>"
            f"<body><div class='page'>{''.join(parts)}</div></body></html>")


# Chromium prints a self-contained page (charts inlined) and must not reach any network: without these flags it
# asks Google for the time, component updates, translation and accounts (seen through the e2e tests' proxy trap).
OFFLINE_ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--disable-default-apps", "--disable-features=Translate,MediaRouter",
                "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND")


def find_chromium() -> str | None:
    """Chromium (or Chrome) on this machine: $CHROMIUM, then the usual names on the PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


class NoChromium(RuntimeError):
    """No Chromium to print the handout with (install the Debian package ``chromium``: ./dev.sh test does)."""


def html_to_pdf(page: str, chromium: str | None = None) -> bytes:
    """Print an HTML page to PDF with headless Chromium; RuntimeError naming the cause if it fails."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise NoChromium("no Chromium found to print the handout (set $CHROMIUM or install chromium); "
                         "download the HTML handout and print it from a browser instead")
    with tempfile.TemporaryDirectory(prefix="handout_") as tmp:
        src, out = Path(tmp) / "handout.html", Path(tmp) / "handout.pdf"
        src.write_text(page, encoding="utf-8")
        cmd = [chromium, *OFFLINE_ARGS, "--no-pdf-header-footer", f"--user-data-dir={Path(tmp) / 'profile'}",
               f"--print-to-pdf={out}", src.as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PDF_TIMEOUT_S, check=False)
        if not out.exists() or out.stat().st_size == 0:
            raise RuntimeError(f"Chromium did not print the handout (exit {done.returncode}): "
                               f"{done.stderr.strip()[-400:]}")
        return out.read_bytes()


def main(argv: Sequence[str] | None = None) -> int:
    from dashboard.session import comparison
    from dashboard.workshop import SCENARIOS, next_stage, setup_of, staged_due

    parser = argparse.ArgumentParser(prog="python -m dashboard.handout",
                                     description="Print a workshop scenario's one-page handout to PDF.")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--weeks", type=int, default=None, help="weeks to run (default: the scenario's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--out", type=Path, required=True, help="the PDF to write")
    args = parser.parse_args(argv)
    sc = SCENARIOS[args.scenario]
    setup = setup_of(sc)
    weeks = args.weeks or setup.weeks
    if not 1 <= weeks <= setup.weeks:
        parser.error(f"--weeks {weeks} is out of range: allowed 1–{setup.weeks}")
    comp = comparison(setup.community, args.seed, setup.weeks, *((setup.policies[s], setup.levers[s]) for s in SIDES))
    comp.titles = dict(sc.titles)  # as the page names the sides (the purchase scenario's B: 政府购买服务)
    while comp.week < weeks:  # as the page plays it: up to each staged change, which is made at its week
        stage = next_stage(sc, comp.week + 1)
        comp.step((weeks if stage is None else min(weeks, stage)) - comp.week)
        for change in staged_due(sc, comp.week):
            comp.change_levers(change.side, change.levers)
    page = handout_html(comp, args.lang, sc.title(args.lang), sc.story(args.lang), sc.question(args.lang))
    try:
        pdf = html_to_pdf(page)
    except (NoChromium, RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_bytes(pdf)
    tmp.replace(args.out)  # nothing half-written
    print(f"wrote {args.out} ({len(pdf):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
