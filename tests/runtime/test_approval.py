"""The approval prompt's preview: what a file change will do, whole, from the file as it is now."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lime.cli.approval import preview
from lime.runtime.tools import TOOLS

W, E, B = TOOLS["write_file"], TOOLS["edit_file"], TOOLS["bash"]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_write_shows_a_diff_against_the_current_file(in_tmp: Path) -> None:
    (in_tmp / "a.txt").write_text("one\ntwo\nthree\n")
    lines = preview(W, {"path": "a.txt", "content": "one\nTWO\nthree\n"})
    assert lines[:2] == ["--- a/a.txt", "+++ b/a.txt"] and "-two" in lines and "+TWO" in lines
    assert preview(W, {"path": "new.txt", "content": "x\ny\n"})[:4] == ["--- /dev/null", "+++ b/new.txt",
                                                                     "@@ -0,0 +1,2 @@", "+x"]


def test_edit_shows_the_resulting_diff_or_both_strings_whole(in_tmp: Path) -> None:
    (in_tmp / "a.py").write_text("x = 1\ny = 1\n")
    assert "+x = 2" in preview(E, {"path": "a.py", "old_string": "x = 1", "new_string": "x = 2"})
    # Ambiguous (the edit will fail): both strings, every line of them.
    new = "\n".join(f"l{i}" for i in range(30))
    lines = preview(E, {"path": "a.py", "old_string": "1", "new_string": new})
    assert lines[0] == "- 1" and lines[-1] == "+ l29" and len(lines) == 31


def test_the_preview_never_blocks_on_a_fifo_nor_reads_outside(in_tmp: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    os.mkfifo(in_tmp / "pipe")
    assert preview(W, {"path": "pipe", "content": "x\n"})[0] == "--- a/pipe (exists; its current contents cannot be shown)"
    secret = tmp_path_factory.mktemp("outside") / "key"
    secret.write_text("PRIVATE\n")
    (in_tmp / "link").symlink_to(secret)
    assert not any("PRIVATE" in ln for ln in preview(W, {"path": "link", "content": "x\n"}))


def test_a_command_is_shown_line_by_line_unchanged() -> None:
    assert preview(B, {"command": "a\nb \r\x1b[2Kc", "timeout": 5}) == ["a", "b \r\x1b[2Kc", "(timeout 5 s)"]
