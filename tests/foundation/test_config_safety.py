"""A failing disk, loose file modes, hostile environment values and config files: one clear line each,
nothing lost, never a traceback."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Lime, assert_one_line_error

KEY = "gsk_configsafety00000000000000001"


def _mount(point: Path, options: str) -> bool:
    if os.geteuid() != 0:
        return False
    point.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
    return res.returncode == 0


@contextlib.contextmanager
def small_disk(point: Path) -> Iterator[str]:
    """A config home that refuses writes: a tiny tmpfs when lime runs as root (ENOSPC, then EROFS),
    else a directory without write permission (EACCES)."""
    if _mount(point, "size=64k,mode=0700"):
        try:
            yield "tmpfs"
        finally:
            subprocess.run(["umount", "-l", str(point)], check=False)
    elif os.geteuid() == 0:
        pytest.skip("root ignores file modes and cannot mount a tmpfs here")
    else:
        point.mkdir(parents=True, exist_ok=True)
        yield "chmod"


def _fill(point: Path) -> None:
    with contextlib.suppress(OSError), (point / "filler").open("wb") as fh:
        while True:
            fh.write(b"\0" * 4096)
            fh.flush()


def _contents(home: Path) -> dict[str, bytes]:
    """What the user stored (lock files and the filler are not data)."""
    return {p.name: p.read_bytes() for p in home.iterdir()
            if p.is_file() and p.name != "filler" and not p.name.endswith(".lock")}


def _deny(point: Path, how: str, what: str) -> None:
    if how == "tmpfs" and what == "full":
        _fill(point)
    elif how == "tmpfs":
        subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
    else:
        point.chmod(0o500)


@pytest.mark.parametrize("what", ["full", "read-only"])
def test_every_config_write_on_a_failing_disk_is_one_line_naming_the_file(lime: Lime, what: str) -> None:
    with small_disk(lime.home) as how:
        lime.home.chmod(0o700)
        res = lime("login", "--provider", "openai-compat", "--service", "groq", "--with-api-key", input=KEY)
        assert res.code == 0, res
        res = lime("model", "add", "--slug", "m1", "--provider", "openai-compat", "--service", "groq",
                   "--context-window", "8192")
        assert res.code == 0, res
        before = _contents(lime.home)
        _deny(lime.home, how, what)
        try:
            cases = [
                (("login", "--provider", "openai-compat", "--service", "mistral", "--with-api-key"), "credentials.json"),
                (("logout", "--provider", "openai-compat", "--service", "groq"), "credentials.json"),
                (("model", "add", "--slug", "m2", "--provider", "openai-compat", "--service", "groq",
                  "--context-window", "8192"), "models.json"),
                (("model", "rm", "m1"), "models.json"),
                (("model", "default", "m1"), "config.json"),
            ]
            for args, name in cases:
                res = lime(*args, input="mistral-key-000000000000000000")
                assert_one_line_error(res, "cannot write", name)
            assert _contents(lime.home) == before
        finally:
            if how == "chmod":
                lime.home.chmod(0o700)


def test_loose_modes_are_fixed_and_reported_once(lime: Lime) -> None:
    res = lime("login", "--provider", "openai-compat", "--service", "groq", "--with-api-key", input=KEY)
    assert res.code == 0, res
    cred = lime.home / "credentials.json"
    lime.home.chmod(0o755)
    cred.chmod(0o644)
    res = lime("status", env={"LIME_MODEL": "llama-3.3-70b"})
    assert res.code == 0, res
    assert res.err.count("lime: warning:") == 2 and "0755" in res.err and "0644" in res.err
    assert stat.S_IMODE(lime.home.stat().st_mode) == 0o700 and stat.S_IMODE(cred.stat().st_mode) == 0o600
    res = lime("status", env={"LIME_MODEL": "llama-3.3-70b"})
    assert res.code == 0 and "warning" not in res.err


@pytest.mark.parametrize("name,value", [
    ("LIME_READ_TIMEOUT", "nan"), ("LIME_READ_TIMEOUT", "inf"), ("LIME_CONNECT_TIMEOUT", "1e300"),
    ("LIME_RETRY_MAX_DELAY", "-inf"), ("LIME_MAX_RETRIES", "1" * 5000), ("LIME_MAX_RETRIES", "100000"),
    ("LIME_LOCAL_CTX", "99999999999999"), ("LIME_CODE_AUTO_COMPACT_INPUT_TOKENS", "1e5"),
    ("LIME_AUTOCOMPACT_PCT_OVERRIDE", "nan"),
])
def test_every_numeric_knob_is_finite_and_in_range(lime: Lime, name: str, value: str) -> None:
    res = lime("-p", "hi", env={name: value, "LIME_MODEL": "llama3.2"})
    assert_one_line_error(res, name)
    assert len(res.err) < 300


@pytest.mark.parametrize("content", [
    None,  # /dev/zero
    b"[" * 100_000 + b"]" * 100_000,
    b'{"models": [' + b'{"slug": "x", "provider": "openai-compat"},' * 300_000 + b"{}]}",
    b"\xff\xfe not text",
])
def test_hostile_models_file_is_a_clear_error(lime: Lime, tmp_path: Path, content: bytes | None) -> None:
    path = "/dev/zero"
    if content is not None:
        (tmp_path / "models.json").write_bytes(content)
        path = str(tmp_path / "models.json")
    res = lime("model", "list", env={"LIME_MODELS_FILE": path})
    assert "Traceback" not in res.err and "MemoryError" not in res.err
    assert path in res.err
    res = lime("model", "add", "--slug", "m1", "--provider", "openai-compat", "--service", "groq",
               "--context-window", "8192", env={"LIME_MODELS_FILE": path})
    assert_one_line_error(res, path)


def test_deep_credentials_file_is_a_clear_error(lime: Lime) -> None:
    lime.home.mkdir(mode=0o700)
    (lime.home / "credentials.json").write_text("[" * 100_000 + "]" * 100_000)
    (lime.home / "credentials.json").chmod(0o600)
    res = lime("status")
    assert_one_line_error(res, "credentials.json")
    assert json.loads("[]") == []
