"""benchmarks/results.md: a full benchmark run rewrites its own sections and keeps the ones other commands wrote."""

from pathlib import Path

from benchmarks.run import CHART, sections_after_chart

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results.md"


def test_the_sections_after_the_chart_are_kept_whole():
    text = f"# Benchmark results\n\n| a | b |\n\n{CHART}\n\n<!-- BEGIN dashboard-load -->\n## Load\nx\n" \
           "<!-- END dashboard-load -->\n\n## Dashboard speed in the browser\n\n| m | v |\n\n### Timed in the page\ny\n"
    kept = sections_after_chart(text)
    assert kept.startswith("<!-- BEGIN dashboard-load -->")
    assert "## Dashboard speed in the browser" in kept and kept.endswith("y")
    assert "# Benchmark results" not in kept
    assert sections_after_chart("# no chart yet\n") == ""


def test_the_shipped_results_keep_the_dashboard_sections():
    kept = sections_after_chart(RESULTS.read_text(encoding="utf-8"))
    assert "## Dashboard under a workshop's load" in kept
    assert "## Dashboard speed in the browser" in kept
