"""A hostile server's answers through the real ``lime`` command: numbers no window has (a
``num_ctx`` of 5,000 digits, 10^30), a JSON answer nested 100,000 deep under ``--output-schema``,
the user's own key echoed back into ``--output-format json``/``stream-json`` and ``-v`` reasoning,
escape sequences stored in models.json, and a session file planted as a link in a trusted
``.lime/sessions/``. Each gives one clear line (or masked output), never a traceback (the ``lime``
fixture fails any run whose output holds one, or holds the key)."""

from __future__ import annotations

import json
from pathlib import Path

from support.fakeserver import as_ollama, reasoning_stream, reply, tool_call_stream

from .conftest import KEY, Lime


def login(lime: Lime, service: str) -> None:
    proc = lime.run("login", "--provider", "openai-compat", "--service", service, "--with-base-url",
                    lime.server.base_url)
    assert proc.returncode == 0, proc.stderr


def windows(lime: Lime) -> dict[str, int]:
    doc = json.loads(Path(lime.env["LIME_MODELS_FILE"]).read_text())
    return {m["slug"]: m["context_window"] for m in doc["models"]}


def test_absurd_num_ctx_values_are_refused_not_imported_or_crashed_on(lime: Lime) -> None:
    as_ollama(lime.server, {
        "digits:latest": {"capabilities": ["completion"], "num_ctx": "9" * 5000, "context_length": 32768},
        "huge:latest": {"capabilities": ["completion"], "num_ctx": str(10**30), "context_length": 10**30},
        "fine:latest": {"capabilities": ["completion"], "num_ctx": 8192, "context_length": 32768},
    })
    login(lime, "ollama")
    proc = lime.run("model", "import", "ollama")
    assert proc.returncode == 0, proc.stderr
    got = windows(lime)
    assert got["fine:latest"] == 8192
    assert got["digits:latest"] == 4096 and got["huge:latest"] == 4096  # Ollama's default, not the claim
    assert "Ollama's default num_ctx" in proc.stderr
    assert all(w <= 10**9 for w in got.values())


def test_a_json_answer_nested_100000_deep_is_one_line_under_output_schema(lime: Lime, tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"a": {"type": "string"}}}))
    deep = "[" * 100_000 + "]" * 100_000
    lime.server.default = reply(deep)  # the answer and its repair (and any probe) all nest too deep
    proc = lime.run("--output-schema", str(schema), "-p", "answer")
    assert proc.returncode != 0 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("lime: error: ") and "nested more than 128 levels deep" in lines[-1], proc.stderr


def test_a_key_the_server_echoes_is_masked_in_json_stream_json_and_verbose_reasoning(lime: Lime) -> None:
    echo = f"your key is {KEY}, and partly {KEY[3:15]}"
    for fmt in ("json", "stream-json"):
        lime.server.enqueue(reasoning_stream(f"thinking about {KEY}", echo))
        proc = lime.run("--output-format", fmt, "-v", "-p", "what is my key?")  # the fixture checks stdout/stderr
        assert proc.returncode == 0, proc.stderr
        assert KEY[3:15] not in proc.stdout + proc.stderr
        assert "sk-...cdef" in proc.stdout and "your key is" in proc.stdout
    # A tool call's arguments echo it too (stream-json shows them as they are called).
    lime.server.enqueue(tool_call_stream([("read_file", {"path": f"{KEY}.txt"})]), reply("done"))
    proc = lime.run("--output-format", "stream-json", "-p", "read")
    assert proc.returncode == 0 and '"tool_call"' in proc.stdout
    # Plain -v: reasoning goes to stderr as it streams.
    lime.server.enqueue(reasoning_stream(f"the key {KEY} again", "fine"))
    proc = lime.run("-v", "-p", "think")
    assert proc.returncode == 0 and "the key sk-...cdef again" in proc.stderr


def test_model_list_and_show_never_print_escape_sequences_from_models_json(lime: Lime) -> None:
    lime.add_model("painted", api_id="wire\x1b]0;owned\x07", display_name="\x1b[2Jcleared",
                   description="\x1b]52;c;cHduZWQ=\x07clipboard")
    for args in (("model", "list"), ("model", "show", "painted")):
        proc = lime.run(*args)
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout + proc.stderr
        assert "\x1b" not in out and "\x07" not in out
        assert "␛]0;owned␇" in out


def test_a_session_file_linked_out_of_a_trusted_sessions_folder_is_not_followed(lime: Lime, tmp_path: Path) -> None:
    (lime.cwd / ".git").mkdir()
    sessions = lime.cwd / ".lime" / "sessions"
    sessions.mkdir(parents=True)
    outside = tmp_path / "outside.jsonl"
    header = {"type": "session", "version": 1, "id": "20990101-000000-abcdef", "model": "fake-model",
              "created": "2099-01-01T00:00:00Z", "cwd": str(lime.cwd)}
    outside.write_text(json.dumps(header) + "\n")
    before = outside.read_text()
    (sessions / "20990101-000000-abcdef.jsonl").symlink_to(outside)
    lime.server.enqueue(reply("fresh"))
    proc = lime.run("--trust", "-c", "-p", "hi")  # -c skips the link: nothing to resume, or a new session
    assert outside.read_text() == before
    proc = lime.run("--trust", "--resume", "20990101-000000-abcdef", "-p", "hi")
    assert proc.returncode != 0 and "symbolic link" in proc.stderr
    assert outside.read_text() == before
