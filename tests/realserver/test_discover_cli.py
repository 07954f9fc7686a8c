"""`lime model add --discover` against a real llama.cpp server registered as the user's own service."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lime.local import manager

from .conftest import clean_env


def lime(home: Path, *argv: str, input: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lime", *argv], input=input, capture_output=True, text=True,
                          env=clean_env(home), timeout=120)


def test_discover_fills_window_and_flags_from_the_server(server: manager.ServerInfo, tmp_path: Path) -> None:
    home = tmp_path / "user-home"
    res = lime(home, "login", "--provider", "openai-compat", "--service", "my-llama", "--with-api-key",
               "--with-base-url", server.base_url, input=server.api_key + "\n")
    assert res.returncode == 0, res.stderr
    res = lime(home, "model", "add", "--slug", "my-llama", "--provider", "openai-compat", "--service", "my-llama",
               "--api-id", server.alias, "--discover")
    assert res.returncode == 0, res.stderr
    assert server.api_key not in res.stdout + res.stderr
    (entry,) = json.loads((home / "models.json").read_text())["models"]
    assert entry["context_window"] == server.n_ctx == 2048
    assert entry["max_output"] == 512 and entry["auto_compact"] == 2048 * 9 // 10 - 512
    # SmolLM2's own chat template has no tool support, and llama.cpp says so in /props
    assert entry["supports_tools"] is False and entry["supports_parallel_tool_calls"] is False
    # the discovered entry is usable as-is
    res = lime(home, "-p", "Say hi", "--model", "my-llama", "--max-tokens", "8")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip()


def test_discover_from_a_server_that_does_not_answer(tmp_path: Path) -> None:
    home = tmp_path / "user-home"
    lime(home, "login", "--provider", "openai-compat", "--service", "gone", "--with-base-url", "http://127.0.0.1:9/v1")
    res = lime(home, "model", "add", "--slug", "g", "--provider", "openai-compat", "--service", "gone", "--discover")
    assert res.returncode != 0
    assert res.stderr.startswith("lime: error: ") and "--context-window" in res.stderr
    assert "Traceback" not in res.stderr and not (home / "models.json").exists()


def test_output_schema_goes_to_llamacpp_as_response_format(server: manager.ServerInfo, tmp_path: Path) -> None:
    """Discovery marks llama.cpp as taking a JSON-schema response_format; the server turns it into
    a grammar, so even a 135M model answers with JSON that matches the schema."""
    home = tmp_path / "user-home"
    lime(home, "login", "--provider", "openai-compat", "--service", "my-llama", "--with-api-key",
         "--with-base-url", server.base_url, input=server.api_key + "\n")
    res = lime(home, "model", "add", "--slug", "my-llama", "--provider", "openai-compat", "--service", "my-llama",
               "--api-id", server.alias, "--discover")
    assert res.returncode == 0, res.stderr
    (entry,) = json.loads((home / "models.json").read_text())["models"]
    assert entry["supports_response_format"] is True
    show = lime(home, "model", "show", "my-llama")
    assert "response_format" in show.stdout.split("capabilities:")[1].splitlines()[0]
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"color": {"type": "string", "enum": ["red", "blue"]},
                                                                    "count": {"type": "integer"}},
                                  "required": ["color", "count"], "additionalProperties": False}))
    res = lime(home, "--model", "my-llama", "--output-schema", str(schema), "--max-tokens", "48", "--no-tools",
               "-p", "Pick a color and a count.")
    assert res.returncode == 0, res.stderr
    answer = json.loads(res.stdout)
    assert set(answer) == {"color", "count"} and answer["color"] in ("red", "blue")
    assert isinstance(answer["count"], int)
