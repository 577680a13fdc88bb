"""Golden outputs: a small fixed set of runs must give byte-identical tables and the same indicators.

The hashes in tests/golden/outputs.json were written by ``python scripts/output_hashes.py --golden --update``;
a refactor must leave them alone.  When a change of the model's outputs is meant, write them anew with that
command and say so in CHANGELOG.md (and regenerate the documents whose numbers changed).
"""

from __future__ import annotations

import importlib.util
import json

from conftest import REPO


def _script():
    spec = importlib.util.spec_from_file_location("output_hashes", REPO / "scripts" / "output_hashes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_golden_outputs_are_unchanged():
    hashes = _script()
    recorded = json.loads(hashes.GOLDEN_FILE.read_text(encoding="utf-8"))
    assert set(recorded) == set(hashes.golden_runs()), \
        "the golden set changed (a policy preset added or removed?): python scripts/output_hashes.py --golden --update"
    now = hashes.golden_hashes()
    changed, _new, _gone = hashes.compare(recorded, now)
    assert not changed, (f"model outputs changed in {len(changed)} golden runs: {changed}. If on purpose, run "
                         "python scripts/output_hashes.py --golden --update and say so in CHANGELOG.md")


def test_compare_names_changed_new_and_gone_runs():
    hashes = _script()
    before = {"a": {"kpis": "1"}, "b": {"kpis": "2"}, "c": {"kpis": "3"}}
    now = {"a": {"kpis": "1"}, "b": {"kpis": "9"}, "d": {"kpis": "4"}}
    assert hashes.compare(before, now) == (["b"], ["d"], ["c"])
