"""The light commands must not pay for HTTP, rendering, line editing or tokenizer imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Lime

HEAVY = ("httpx", "rich", "prompt_toolkit", "bpe_openai", "xllamacpp", "anyio", "h11", "pygments")


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["-V"], ["version"], ["model", "list"], ["status"],
                                  ["system-prompt"], ["init"]])
def test_light_commands_import_nothing_heavy(lime: Lime, argv: list[str], tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "lime", *argv], capture_output=True,
                          text=True, env=lime.env, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "lime" in imported
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
