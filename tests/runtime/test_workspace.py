"""Race-free file access: a directory swapped for a symlink while tools read and write."""

from __future__ import annotations

import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lime.runtime.tools import TOOLS, Workspace, run_tool
from lime.runtime.workspace import display
from support.race import start_swapper


def test_thousands_of_reads_and_writes_racing_a_symlink_swap_never_escape(tmp_path: Path) -> None:
    work, outside = tmp_path / "work", tmp_path / "outside"
    (work / "d").mkdir(parents=True)
    (work / "d" / "f.txt").write_text("inside\n")
    outside.mkdir()
    (outside / "f.txt").write_text("ESCAPED\n")
    ws = Workspace(work.resolve(), [], [])
    swapper = start_swapper(work, outside)
    outcomes: Counter[str] = Counter()
    try:
        time.sleep(0.3)

        def read(_: int) -> str:
            return run_tool(TOOLS["read_file"], ws, {"path": "d/f.txt"}).content

        def write(i: int) -> str:
            return run_tool(TOOLS["write_file"], ws, {"path": "d/f.txt", "content": f"written {i}\n"}).content

        with ThreadPoolExecutor(4) as pool:
            for text in pool.map(read, range(4000)):
                outcomes["escaped" if "ESCAPED" in text else "inside" if "inside" in text else "refused"] += 1
            written = list(pool.map(write, range(1000)))
    finally:
        swapper.kill()
        swapper.wait()
    assert outcomes["escaped"] == 0, outcomes
    assert outcomes["inside"] > 0 and outcomes["refused"] > 0, outcomes  # the swap really raced the reads
    assert (outside / "f.txt").read_text() == "ESCAPED\n" and sorted(os.listdir(outside)) == ["f.txt"]
    assert any(w.startswith("overwrote d/f.txt") for w in written)


def test_names_that_are_not_utf8_or_hold_controls_are_shown_escaped() -> None:
    assert display("plain name.txt") == "plain name.txt"
    assert display(os.fsdecode(b"caf\xe9.txt")) == "caf\\xe9.txt"
    assert display("a\nb\x1b[2J\u202e") == "a\\nb\\x1b[2J\\u202e"


def test_writes_keep_the_mode_and_refuse_what_is_not_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "run.sh").write_text("echo 1\n")
    (tmp_path / "run.sh").chmod(0o751)
    os.mkfifo(tmp_path / "pipe")
    ws = Workspace(tmp_path.resolve(), [], [])
    assert run_tool(TOOLS["edit_file"], ws, {"path": "run.sh", "old_string": "1", "new_string": "2"}).ok
    assert (tmp_path / "run.sh").stat().st_mode & 0o777 == 0o751
    assert (tmp_path / "run.sh").read_text() == "echo 2\n"
    t0 = time.monotonic()
    assert run_tool(TOOLS["read_file"], ws, {"path": "pipe"}).content == "error: pipe is not a regular file"
    assert run_tool(TOOLS["write_file"], ws, {"path": "pipe", "content": "x"}).content == \
        "error: pipe is not a regular file"
    assert time.monotonic() - t0 < 5
    assert [p for p in os.listdir(tmp_path) if ".tmp" in p] == []
