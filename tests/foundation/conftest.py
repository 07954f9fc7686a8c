"""Run the real ``lime`` command in an isolated config home with a scrubbed environment."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.env import isolate, user_env


@dataclass
class Result:
    code: int
    out: str
    err: str


class Lime:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = user_env(home)

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "lime", *args],
            input=input if input is not None else "",
            capture_output=True, text=True, env={**self.env, **(env or {})}, timeout=60,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def set_env(self, **kw: str) -> None:
        self.env.update(kw)


@pytest.fixture
def lime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lime:
    home = tmp_path / "home"
    isolate(monkeypatch, home)
    return Lime(home)


def assert_one_line_error(res: Result, *needles: str) -> None:
    assert res.code != 0, res
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one error line, got: {res.err!r}"
    assert lines[0].startswith("lime: error: "), lines
    assert "Traceback" not in res.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
