"""The two READMEs are in step: the same sections, in the same order and at the same level, and each pair of
sections shows the same commands (a section translated with a command left out fails here)."""

from __future__ import annotations

import re

from conftest import REPO


def _sections(name: str) -> list[tuple[int, str, set[str]]]:
    """(heading level, heading, the ``python -m`` modules its text names) of every ## and ### section."""
    parts = re.split(r"(?m)^(#{2,3}) (.*)$", (REPO / name).read_text(encoding="utf-8"))
    return [(len(parts[i]), parts[i + 1], set(re.findall(r"python -m ([\w.]+)", parts[i + 2])))
            for i in range(1, len(parts), 3)]


def test_the_readmes_have_the_same_sections_and_commands_in_each():
    en, zh = _sections("README.md"), _sections("README.zh-CN.md")
    assert [level for level, _, _ in en] == [level for level, _, _ in zh], \
        f"section structure differs: {[h for _, h, _ in en]} vs {[h for _, h, _ in zh]}"
    differ = [(a, b, sorted(ma ^ mb)) for (_, a, ma), (_, b, mb) in zip(en, zh, strict=True) if ma != mb]
    assert not differ, f"sections naming different commands (en, zh, the difference): {differ}"


def test_the_check_sees_a_missing_section(tmp_path, monkeypatch):
    import conftest

    text = (REPO / "README.zh-CN.md").read_text(encoding="utf-8")
    (tmp_path / "README.md").write_text((REPO / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "README.zh-CN.md").write_text(text.replace("## 运行速度", "运行速度", 1), encoding="utf-8")
    monkeypatch.setattr(conftest, "REPO", tmp_path)
    monkeypatch.setitem(globals(), "REPO", tmp_path)
    try:
        test_the_readmes_have_the_same_sections_and_commands_in_each()
    except AssertionError as exc:
        assert "section structure differs" in str(exc)
    else:
        raise AssertionError("a missing section was not noticed")
