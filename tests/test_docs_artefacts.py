"""Generated documentation figures record the model output they show (issue 27): experiments.docs."""

from __future__ import annotations

import json
import shutil

from experiments import docs


def test_readme_run_figure_shows_the_current_model():
    """Fails when the model's output changed after docs/figures/readme_run.png was drawn: regenerate it with
    python -m experiments.docs."""
    assert docs.check(docs.ARTEFACTS["readme_run"]) == []


def test_a_stale_or_edited_figure_is_named(tmp_path):
    """The check fails on a figure drawn from an older model (a recorded output hash that today's runs do not
    give) and on a figure edited after it was recorded; it names the artefact and the run."""
    real = docs.ARTEFACTS["readme_run"]
    figure, record = tmp_path / "readme_run.png", tmp_path / "readme_run.json"
    shutil.copy(docs.ROOT / real.path, figure)
    data = json.loads(real.record.read_text(encoding="utf-8"))
    data["runs"][1]["output_hash"] = "0" * 16  # as if drawn before the model last changed
    record.write_text(json.dumps(data), encoding="utf-8")
    stale = docs.Artefact("stale", str(figure), real.runs)
    problems = docs.check(stale)
    assert len(problems) == 1 and "is older than the model" in problems[0] and "policy=five_society" in problems[0]
    figure.write_bytes(figure.read_bytes() + b"\0")  # edited by hand after it was recorded
    assert any("was changed after it was recorded" in p for p in docs.check(stale))
    record.unlink()
    assert "has no record" in docs.check(stale)[0]
    assert docs.main(["--only", "nope"]) == 2
