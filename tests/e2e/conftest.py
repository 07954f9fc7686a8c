"""End-to-end set-up: the real ``lime`` command, a private config home, and a user model whose
service bucket points at the fake server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.env import user_env
from support.fakeserver import FakeServer

KEY = "sk-e2e-test-0123456789abcdef"


@dataclass
class Lime:
    home: Path
    cwd: Path
    env: dict[str, str]
    server: FakeServer

    def run(self, *args: str, input: str | None = None, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "lime", *args], input=input, capture_output=True, text=True,
            cwd=self.cwd, env={**self.env, **env}, timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        for stream in (proc.stdout, proc.stderr):
            assert KEY not in stream, "the API key leaked into lime's output"
            assert "Traceback" not in stream, stream
        return proc

    def add_model(self, slug: str, **fields: Any) -> None:
        path = Path(self.env["LIME_MODELS_FILE"])
        doc = json.loads(path.read_text()) if path.exists() else {"models": []}
        doc["models"].append({"slug": slug, "provider": "openai-compat", "service": "fake",
                              "context_window": 32000, **fields})
        path.write_text(json.dumps(doc))

    def sessions(self) -> list[Path]:
        return sorted((self.home / "sessions").glob("*.jsonl"))

    def session_events(self) -> list[dict[str, Any]]:
        (path,) = self.sessions()
        return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def lime(tmp_path: Path, fake_server: FakeServer) -> Lime:
    home = tmp_path / "home"
    cwd = tmp_path / "work"
    cwd.mkdir()
    env = user_env(home, LIME_MODELS_FILE=str(tmp_path / "models.json"), LIME_MAX_RETRIES="0",
                   PYTHONUNBUFFERED="1", COLUMNS="100", HOME=str(tmp_path))
    subprocess.run([sys.executable, "-m", "lime", "login", "--provider", "openai-compat", "--service", "fake",
                    "--with-api-key", "--with-base-url", fake_server.base_url], input=KEY + "\n", text=True,
                   env=env, check=True, capture_output=True)
    lime = Lime(home, cwd, env, fake_server)
    lime.add_model("fake-model", supports_parallel_tool_calls=True, supports_include_usage=True)
    lime.add_model("other-model", api_id="other-wire", param_preset="reasoning")
    env["LIME_MODEL"] = "fake-model"
    return lime


def chat(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation a request carried, without the system prompt lime puts first."""
    return messages[1:] if messages and messages[0]["role"] == "system" else messages


def user_texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["content"] for m in messages if m["role"] == "user"]


Check = Callable[..., None]
