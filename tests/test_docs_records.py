"""Every docs figure records the model it was drawn from, checked cheaply (issue 27): experiments.docs.

The check runs nothing: each record's model fingerprint (a hash of tests/golden/outputs.json, which the golden
test keeps equal to today's model outputs) must be today's.  The run-by-run check is tests/test_docs_artefacts.py
(slow).
"""

from __future__ import annotations

import json
import shutil

from experiments import docs


def test_every_recorded_docs_artefact_was_drawn_from_todays_model():
    """Fails when the model's outputs changed (tests/golden/outputs.json rewritten) after a figure was drawn:
    regenerate it with python -m experiments.docs."""
    assert [p for a in docs.ARTEFACTS.values() for p in docs.check_recorded(a)] == []


def test_every_docs_figure_is_an_artefact_or_pending_with_its_command():
    assert docs.unaccounted() == []
    assert all(cmd.startswith("python -m experiments.") for cmd in docs.PENDING.values())
    assert not set(docs.PENDING) & {a.path.rsplit("/", 1)[-1] for a in docs.ARTEFACTS.values()}


def test_a_figure_from_an_older_model_is_named(tmp_path):
    """A record whose fingerprint is not today's (the model changed after the figure was drawn) is stale; so is a
    figure edited after it was recorded, or one without a record."""
    real = docs.ARTEFACTS["readme_run"]
    figure, record = tmp_path / "readme_run.png", tmp_path / "readme_run.json"
    shutil.copy(docs.ROOT / real.path, figure)
    shutil.copy(real.record, record)
    stale = docs.Artefact("stale", str(figure), real.runs)
    assert docs.check_recorded(stale) == []
    assert "is older than the model" in docs.check_recorded(stale, fingerprint="0" * 16)[0]
    golden = tmp_path / "outputs.json"
    golden.write_text(docs.GOLDEN.read_text(encoding="utf-8").replace("0", "1", 1), encoding="utf-8")
    assert docs.model_fingerprint(golden) != docs.model_fingerprint()  # any change of the golden hashes shows
    data = json.loads(record.read_text(encoding="utf-8"))
    figure.write_bytes(figure.read_bytes() + b"\0")
    assert any("was changed after it was recorded" in p for p in docs.check_recorded(stale))
    record.unlink()
    assert "has no record" in docs.check_recorded(stale)[0]
    assert data["model_outputs"] == docs.model_fingerprint()
