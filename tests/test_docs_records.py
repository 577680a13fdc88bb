"""Every docs figure records the model it was drawn from, checked cheaply (issue 27): experiments.docs.

Run artefacts and study figures alike; the check runs nothing: each record's model fingerprint (a hash of
tests/golden/outputs.json, which the golden test keeps equal to today's model outputs) must be today's.  The
run-by-run check of the run artefacts is tests/test_docs_artefacts.py (slow); the studies' tests here run a fake
study module that writes its figure in no time.
"""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest

from experiments import docs


def test_every_recorded_docs_artefact_was_drawn_from_todays_model():
    """Fails when the model's outputs changed (tests/golden/outputs.json rewritten) after a figure was drawn:
    regenerate it with python -m experiments.docs."""
    assert [p for a in docs.ALL.values() for p in docs.check_recorded(a)] == []


def test_every_docs_figure_is_an_artefact_or_pending_with_its_command():
    assert docs.unaccounted() == []
    assert all(cmd.startswith("python -m experiments.") for cmd in docs.PENDING.values())
    recorded = {p.rsplit("/", 1)[-1] for a in docs.ALL.values() for p in docs.recorded_paths(a)}
    assert recorded and not set(docs.PENDING) & recorded
    for study in docs.STUDIES.values():  # a study's figure not yet recorded is pending with the command that draws it
        for path in study.paths:
            name = path.rsplit("/", 1)[-1]
            assert name in recorded or docs.PENDING[name] == f"python -m experiments.docs --only {study.name}"


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


FAKE_STUDY = textwrap.dedent("""
    import argparse, pathlib, sys
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--lang", default="en")
    ap.add_argument("--fail", action="store_true")
    args = ap.parse_args()
    print(f"2 scenarios x 3 seeds = 6 runs into {args.out}")
    print("a line without a count")
    print("sweep finished: 6 done, 0 skipped, 0 failed, wall time 0.1 s")
    if args.fail:
        sys.exit(3)
    (args.out / "fig.png").write_bytes(b"figure in " + args.lang.encode())
    (args.out / "summary.json").write_text('{"total_minutes": 0.01, "recommended": 9}')
""")


@pytest.fixture
def fake_study(tmp_path, monkeypatch):
    """A study module (``python -m fake_study_mod``) that writes fig.png in --out in no time, and a Study of it
    whose two steps draw an English and a Chinese figure into tmp_path."""
    (tmp_path / "fake_study_mod.py").write_text(FAKE_STUDY, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    steps = (
        docs.Step(("--out", "{out}"), (("fig.png", str(tmp_path / "fake_en.png")),)),
        docs.Step(("--lang", "zh", "--out", "{out}"), (("fig.png", str(tmp_path / "fake_zh.png")),)),
    )
    return docs.Study("fake", "fake_study_mod", steps)


def test_a_study_is_run_copied_and_recorded_and_checked_like_a_run_artefact(fake_study, tmp_path):
    records = docs.generate_study(fake_study)
    en, zh = (tmp_path / "fake_en.png"), (tmp_path / "fake_zh.png")
    assert en.read_bytes() == b"figure in en" and zh.read_bytes() == b"figure in zh"  # each step's own figure
    assert [r["study"] for r in records] == [
        ["python -m fake_study_mod"],
        ["python -m fake_study_mod", "python -m fake_study_mod --lang zh"],
    ]
    record = json.loads(docs.record_path(zh).read_text(encoding="utf-8"))
    assert record == records[1] and record["command"] == "python -m experiments.docs --only fake"
    assert record["model_outputs"] == docs.model_fingerprint() and record["wall_time_s"] > 0
    lines = record["runs_lines"]  # the lines that count runs, not the others, of both steps
    assert [line[:30] for line in lines] == ["2 scenarios x 3 seeds = 6 runs", "sweep finished: 6 done, 0 skip"] * 2
    assert record["summary"] == {"total_minutes": 0.01}  # time and run entries only
    assert docs.check_recorded(fake_study) == []
    assert "is older than the model" in docs.check_recorded(fake_study, fingerprint="0" * 16)[0]
    zh.write_bytes(b"edited by hand")
    assert docs.check_recorded(fake_study) == [f"{zh} was changed after it was recorded"]
    docs.record_path(en).unlink()
    assert f"{en} has no record" in docs.check_recorded(fake_study)[0]


def test_a_failing_study_copies_and_records_nothing(fake_study, tmp_path):
    failing = docs.Study(
        "fake",
        fake_study.module,
        (fake_study.steps[0], docs.Step(("--fail", "--out", "{out}"), fake_study.steps[1].figures, shown=("{out}",))),
    )
    with pytest.raises(docs.StudyError, match=r"--fail failed \(exit 3\); nothing copied"):
        docs.generate_study(failing)
    assert list(tmp_path.glob("fake_*.png")) == [] and list(tmp_path.glob("fake_*.json")) == []


def test_a_study_is_refused_by_the_rerun_check_and_bad_names_list_the_allowed(capsys):
    study = next(iter(docs.STUDIES))
    assert docs.main(["--check", "--rerun", "--only", study]) == 2
    assert f"regenerate it with python -m experiments.docs --only {study}" in capsys.readouterr().err
    assert docs.main(["--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in docs.ALL)


def test_the_recorded_study_command_is_the_documented_one():
    step = docs.Step(("community=relocation", "--seeds", "10", "--out", "{out}", "--figures", "{out}"), ())
    assert step.command("experiments.decompose") == ("python -m experiments.decompose community=relocation --seeds 10")


def test_a_study_that_rederives_a_shipped_input_draws_only_if_it_gives_it_again(fake_study, tmp_path):
    """The calibration's study writes its point estimate: the figures are copied only if it equals the shipped
    config (comment lines, such as the date it was written, aside)."""
    shipped = tmp_path / "shipped.json"
    step = docs.Step(("--out", "{out}"), fake_study.steps[0].figures, matches=(("summary.json", str(shipped)),))
    study = docs.Study("fake", fake_study.module, (step,))
    shipped.write_text('# written 2026-12-07\n{"total_minutes": 0.01, "recommended": 9}\n', encoding="utf-8")
    assert len(docs.generate_study(study)) == 1 and (tmp_path / "fake_en.png").is_file()
    (tmp_path / "fake_en.png").unlink()
    docs.record_path(tmp_path / "fake_en.png").unlink()
    shipped.write_text('{"total_minutes": 0.01, "recommended": 10}\n', encoding="utf-8")
    moved = r"no longer gives the shipped .*shipped\.json \(its summary\.json differs.*nothing copied"
    with pytest.raises(docs.StudyError, match=moved):
        docs.generate_study(study)
    assert list(tmp_path.glob("fake_en*")) == []
