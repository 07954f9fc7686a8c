"""``lime model import`` against servers that list too much: 20,000 models, 3,000 Ollama models each
described by its own request, a slow describer, and a models.json near the size lime reads. The
import takes at most ``--max-models`` (default 500), stops asking at ``--deadline`` (default 60 s),
writes models.json once (counted with inotify), and never writes a file it could not read back."""

from __future__ import annotations

import ctypes
import json
import os
import struct
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from support.fakeserver import SSE, Recorded, as_ollama

from .conftest import Lime

IN_MOVED_TO, IN_CLOSE_WRITE, IN_NONBLOCK = 0x80, 0x08, 0o4000


class Writes:
    """Counts the times a file in a directory is replaced or written (inotify, Linux)."""

    def __init__(self, directory: Path) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(IN_NONBLOCK)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, str(directory).encode(), IN_MOVED_TO | IN_CLOSE_WRITE) < 0:
            pytest.skip("inotify is not available")

    def of(self, name: str) -> int:
        count, data = 0, b""
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            data += chunk
        pos = 0
        while pos < len(data):
            _, mask, _, size = struct.unpack_from("iIII", data, pos)
            got = data[pos + 16:pos + 16 + size].rstrip(b"\0").decode()
            pos += 16 + size
            count += got == name and bool(mask & (IN_MOVED_TO | IN_CLOSE_WRITE))
        return count

    def close(self) -> None:
        os.close(self.fd)


def listing(lime: Lime, ids: list[str]) -> None:
    """A vLLM-style /v1/models, kept small per model (so 20,000 fit in lime's 8 MiB reply limit)."""
    lime.server.route("GET", "/v1/models", {"object": "list", "data": [{"id": i, "max_model_len": 4096} for i in ids]})


def login(lime: Lime, service: str) -> None:
    proc = lime.run("login", "--provider", "openai-compat", "--service", service, "--with-base-url",
                    lime.server.base_url)
    assert proc.returncode == 0, proc.stderr


def user_models(lime: Lime) -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = json.loads(Path(lime.env["LIME_MODELS_FILE"]).read_text())["models"]
    return models


def one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode != 0 and len(lines) == 1 and lines[0].startswith("lime: error: "), proc.stderr
    assert all(n in lines[0] for n in needles), lines[0]
    return lines[0]


def test_twenty_thousand_listed_models_take_the_cap_in_one_write(lime: Lime) -> None:
    listing(lime, [f"m{i:05}" for i in range(20_000)])
    login(lime, "big")
    models_file = Path(lime.env["LIME_MODELS_FILE"])
    writes = Writes(models_file.parent)
    try:
        proc = lime.run("model", "import", "big")
        assert proc.returncode == 0, proc.stderr
        assert writes.of(models_file.name) == 1  # one write for 500 entries, not 500 rewrites
        assert "lists 20,000 models: took the first 500 (--max-models N takes more" in proc.stderr
        slugs = [m["slug"] for m in user_models(lime)]
        assert len(slugs) == 502 and slugs[2:] == [f"m{i:05}" for i in range(500)]
        proc = lime.run("model", "import", "big", "--max-models", "3000")
        assert proc.returncode == 0, proc.stderr
        assert writes.of(models_file.name) == 1 and len(user_models(lime)) == 3002
    finally:
        writes.close()
    assert lime.run("model", "list").returncode == 0
    one_line_error(lime.run("model", "import", "big", "--max-models", "0"), "--max-models")
    one_line_error(lime.run("model", "import", "big", "--deadline", "9" * 5000), "--deadline")


def test_three_thousand_ollama_models_are_bounded_in_requests_and_time(lime: Lime) -> None:
    as_ollama(lime.server, {f"m{i}:latest": {"capabilities": ["completion"], "num_ctx": 8192} for i in range(3000)})
    login(lime, "ollama")
    proc = lime.run("model", "import", "ollama", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    shows = [r for r in lime.server.requests if r.path == "/api/show"]
    assert len(shows) == 500 and len(lime.server.requests) <= 504  # not 3,003
    # A server that takes 50 ms per model: 3,000 would be 150 s; the deadline ends it at 2 s.
    show = lime.server.routes[("POST", "/api/show")]
    assert callable(show)

    def slow(req: Recorded) -> Any:
        time.sleep(0.05)
        return show(req)

    lime.server.route("POST", "/api/show", slow)
    started = time.monotonic()
    proc = lime.run("model", "import", "ollama", "--max-models", "3000", "--deadline", "2")
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert took < 15, took
    assert "not described within the 2s deadline and skipped" in proc.stderr
    imported = len(user_models(lime)) - 2
    assert 0 < imported < 3000


def test_a_listing_that_trickles_past_the_deadline_is_one_line(lime: Lime) -> None:
    # One byte every 100 ms: each read is in time, the whole answer would take 20 s.
    lime.server.route("GET", "/v1/models", SSE([{"data": [{"id": "m" * 100}]}], write_size=1, write_delay=0.1))
    login(lime, "slow")
    started = time.monotonic()
    one_line_error(lime.run("model", "import", "slow", "--deadline", "1"), "within the 1s deadline")
    assert time.monotonic() - started < 10


def test_models_json_is_never_grown_past_what_lime_reads(lime: Lime) -> None:
    models_file = Path(lime.env["LIME_MODELS_FILE"])
    doc = json.loads(models_file.read_text())
    doc["notes"] = "x" * (8 * 2**20 - 40_000)  # kept verbatim by every write
    models_file.write_text(json.dumps(doc))
    before = models_file.read_bytes()
    listing(lime, [f"model-with-a-long-name-{i:05}" for i in range(400)])
    login(lime, "big")
    one_line_error(lime.run("model", "import", "big"), "past the 8 MiB lime reads; nothing written")
    assert models_file.read_bytes() == before
    assert lime.run("model", "list").returncode == 0
    assert lime.run("model", "import", "big", "model-with-a-long-name-00001").returncode == 0
