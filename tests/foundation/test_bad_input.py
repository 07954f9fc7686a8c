"""Bad command-line input ends in one clear line: undecodable bytes, absurd numbers, hostile schema files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Lime, assert_one_line_error

BAD = "\udcff"  # how Python hands over the byte 0xff from argv; subprocess sends it back as that byte


@pytest.mark.parametrize("args,flag", [
    (["-p", f"hi{BAD}"], "-p"),
    (["model", "add", "--slug", f"a{BAD}", "--provider", "openai-compat", "--service", "groq",
      "--context-window", "100"], "--slug"),
    (["login", "--provider", "openai-compat", "--service", "x", "--with-base-url", f"http://a{BAD}/v1"],
     "--with-base-url"),
    (["login", "--provider", "openai-compat", "--service", f"x{BAD}", "--with-base-url", "http://a/v1"], "--service"),
])
def test_undecodable_bytes_in_flags_are_a_clear_error(lime: Lime, args: list[str], flag: str) -> None:
    res = lime(*args, env={"LIME_MODEL": "no-such-model"})
    assert_one_line_error(res, flag, "not valid UTF-8")
    assert res.code == 2


def test_undecodable_piped_stdin_is_a_clear_error(lime: Lime) -> None:
    for lang in ("C", "C.UTF-8"):
        proc = subprocess.run([sys.executable, "-m", "lime", "-p", "summarise"], input=b"ok \xff\xfe bytes",
                              capture_output=True, env={**lime.env, "LANG": lang, "LC_ALL": lang,
                                                        "LIME_MODEL": "no-such-model"}, timeout=60)
        err = proc.stderr.decode()
        assert proc.returncode == 2 and "Traceback" not in err
        assert err.strip() == "lime: error: standard input is not UTF-8 text (byte 0xff at offset 3)"


@pytest.mark.parametrize("args,flag", [
    (["-p", "hi", "--max-tokens", str(10**30)], "--max-tokens"),
    (["-p", "hi", "--max-turns", str(10**9)], "--max-turns"),
    (["model", "add", "--slug", "m", "--provider", "openai-compat", "--service", "groq", "--context-window",
      str(10**400)], "--context-window"),
    (["model", "add", "--slug", "m", "--provider", "openai-compat", "--service", "groq", "--context-window",
      "8192", "--max-output", str(10**20)], "--max-output"),
])
def test_absurd_numbers_are_refused(lime: Lime, args: list[str], flag: str) -> None:
    res = lime(*args, env={"LIME_MODEL": "no-such-model"})
    assert_one_line_error(res, flag, "between 1 and")
    assert len(res.err) < 200
    assert not (lime.home / "models.json").exists()


@pytest.mark.parametrize("content,needle", [
    (b"[" * 100_000 + b"]" * 100_000, "nested more than"),
    (b'{"type": "object", "description": "\xff"}', "not UTF-8"),
    (b"{" * 50, "not valid JSON"),
])
def test_hostile_schema_files_are_a_clear_error(lime: Lime, tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "schema.json"
    path.write_bytes(content)
    res = lime("-p", "hi", "--output-schema", str(path), env={"LIME_MODEL": "no-such-model"})
    assert_one_line_error(res, "--output-schema", needle)


@pytest.mark.parametrize("args", [("status",), ("system-prompt",), ("-p", "hi")])
def test_a_deleted_working_directory_is_one_line(lime: Lime, tmp_path: Path, args: tuple[str, ...]) -> None:
    """A shell left in a directory that was removed since: say so, no traceback from os.getcwd()."""
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.run(["sh", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", str(gone),
                           sys.executable, "-m", "lime", *args],
                          capture_output=True, text=True, env={**lime.env, "LIME_MODEL": "llama3.2"}, timeout=60)
    from .conftest import Result

    assert_one_line_error(Result(proc.returncode, proc.stdout, proc.stderr), "working directory", "no longer exists")
