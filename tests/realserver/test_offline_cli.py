"""The product's first command for a new user with no key and no network: ``lime -p "Say hello"``
answers from the local model. And a conversation that outgrows the real window recovers."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import clean_env

LIME = [sys.executable, "-m", "lime"]


def _lime(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LIME, *args], capture_output=True, text=True, env=clean_env(home, **env),
                          timeout=120, stdin=subprocess.DEVNULL)


def test_first_prompt_with_no_key_answers_from_the_local_model(fresh_home: Path) -> None:
    res = _lime(fresh_home, "-p", "Say hello", "--max-tokens", "40")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip()
    assert res.stderr.count("using the local model smollm2 (offline)") == 1
    assert "Traceback" not in res.stderr
    again = _lime(fresh_home, "--json", "-p", "Say hello", "--max-tokens", "16")
    assert again.returncode == 0, again.stderr
    out = json.loads(again.stdout)
    assert out["route"]["service"] == "local" and out["route"]["base_url"].startswith("http://127.0.0.1:")
    assert out["usage"]["estimated"] is False and out["usage"]["completion_tokens"] <= 16
    assert out["text"].strip()


def _unshare_works() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip is not installed"
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"unshare -n is not permitted here: {probe.stderr.strip()[:120]}"
    return None


def test_first_prompt_with_no_network_at_all(fresh_home: Path) -> None:
    why = _unshare_works()
    if why:
        pytest.skip(why)
    script = ('ip link set lo up; ip -o link | grep -v " lo:" && exit 99; '
              f'exec {sys.executable} -m lime -p "Say hello" --max-tokens 40')
    res = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True,
                         env=clean_env(fresh_home), timeout=120, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip()
    assert "using the local model smollm2 (offline)" in res.stderr


def test_real_overflow_compacts_and_retries_within_one_conversation(fresh_home: Path) -> None:
    """A user registers the llama.cpp server with a window larger than the one it really runs
    (4096 declared, 1024 served), so lime's own budget says turn 2 fits while the server's count
    does not. The server's real 400 must drive compaction and a successful retry, and lime must
    take the server's window from then on. (A 1024-token window keeps the prompts, and so the
    test, short.)"""
    knobs = {"LIME_LOCAL_CTX": "1024"}
    words = ("the quick brown fox jumps over the lazy dog while seven wizards quietly judge "
             "boxing matches in the old town square ")
    first = _lime(fresh_home, "--max-tokens", "48", "-p", "Summarise this: " + words * 12, **knobs)
    assert first.returncode == 0, first.stderr
    server = json.loads((fresh_home / "local" / "server.json").read_text())
    login = subprocess.run([*LIME, "login", "--provider", "openai-compat", "--service", "mybox", "--with-api-key",
                            "--with-base-url", f"http://127.0.0.1:{server['port']}/v1"],
                           input=server["api_key"], capture_output=True, text=True, env=clean_env(fresh_home),
                           timeout=60)
    assert login.returncode == 0, login.stderr
    add = _lime(fresh_home, "model", "add", "--slug", "mybox-smollm2", "--provider", "openai-compat",
                "--service", "mybox", "--api-id", "smollm2", "--context-window", "4096", "--include-usage")
    assert add.returncode == 0, add.stderr
    rng = random.Random(7)
    numbers = " ".join("".join(rng.choice("0123456789") for _ in range(8)) for _ in range(78))
    second = _lime(fresh_home, "-c", "--model", "mybox-smollm2", "--max-tokens", "48", "-p",
                   f"Here are my order numbers: {numbers}. Which one is the largest?", **knobs)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip()
    assert "compacting" in second.stderr and "context overflow; will retry" in second.stderr
    assert server["api_key"] not in second.stderr + second.stdout
    sessions = list((fresh_home / "sessions").glob("*.jsonl"))
    assert len(sessions) == 1
    events = [json.loads(line) for line in sessions[0].read_text().splitlines() if line.strip()]
    assert any(e.get("type") == "compaction" for e in events)
