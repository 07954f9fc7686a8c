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
