"""What a hostile server costs lime before it stops: peak RSS, time, exit code and message of
``lime -p`` against the fake server's endless stream, gzip bomb and 50 MB line (default bounds),
and how event-stream line scanning scales (time for a 50 MB line / time for a 5 MB line: 10x is
linear, 100x quadratic).

Usage: python bench/bench_hostile.py [--only NAME]   (NAME: part of a case's name)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from lime.providers.openai_compat.errors import ResponseTooLarge  # noqa: E402
from lime.providers.openai_compat.sse import SSEDecoder  # noqa: E402
from support.fakeserver import (  # noqa: E402
    FakeServer,
    Flood,
    _compressed_flood,
    endless_stream,
    gzip_bomb,
    huge_line,
    text_stream,
)

KEY = "sk-bench-hostile-0123456789abcdef"
CASES = {
    "a normal short answer (for comparison)": lambda: text_stream("Hello there.", chunks=4),
    "endless stream": lambda: endless_stream("spam "),
    "endless keep-alives": lambda: Flood(b": keep-alive\n\n" * 4096),
    "gzip bomb (1 GiB inflated)": lambda: gzip_bomb(1 << 30),
    "50 MB line": lambda: huge_line(50_000_000),
}


def run_case(name: str, home: Path, server: FakeServer) -> None:
    flood = CASES[name]()
    if isinstance(flood, Flood) and flood.encoding and flood.total:  # compress the bomb before the clock starts
        size = len(_compressed_flood(flood.head, flood.piece, flood.total, flood.encoding))
        name += f", {size / (1 << 20):.2f} MiB on the wire"
    server.enqueue(flood)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIME_") and not k.endswith("_API_KEY")}
    env.update(LIME_CONFIG_HOME=str(home), LIME_MODELS_FILE=str(home / "models.json"), LIME_MODEL="fake-model",
               LIME_MAX_RETRIES="0")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "lime", "-p", "hi"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    out_size = 0
    assert proc.stdout is not None and proc.stderr is not None
    while chunk := proc.stdout.read(1 << 16):
        out_size += len(chunk)
    err = proc.stderr.read().decode("utf-8", "replace").strip()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    sessions = sorted((home / "sessions").glob("*.jsonl"))
    kept = sessions[-1].stat().st_size if sessions else 0
    print(f"{name}:\n  peak RSS {usage.ru_maxrss / 1024:.0f} MiB, {elapsed:.2f} s, exit {code}, "
          f"stdout {out_size / (1 << 20):.1f} MiB, session file {kept / (1 << 20):.1f} MiB\n  {err}")


def scan_ratio() -> None:
    """The decoder alone, fed 64 KiB reads of one line without an end (limit raised above it)."""

    def feed(size: int) -> float:
        d = SSEDecoder(max_line=size + 1024)
        piece = b"x" * 65536
        t0 = time.perf_counter()
        d.feed(b"data: ")
        for _ in range(size // len(piece)):
            d.feed(piece)
        d.feed(b"\n\n")
        return time.perf_counter() - t0

    small, big = feed(5_000_000), feed(50_000_000)
    print(f"SSE line scan: 5 MB {small * 1000:.1f} ms, 50 MB {big * 1000:.1f} ms = {big / small:.1f}x "
          "for 10x the bytes")
    try:
        SSEDecoder(max_line=1 << 20).feed(b"x" * (2 << 20))
    except ResponseTooLarge as exc:
        print(f"  over the bound: {exc}")


def main() -> None:
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    scan_ratio()
    with tempfile.TemporaryDirectory() as tmp, FakeServer() as server:
        home = Path(tmp)
        env = {**os.environ, "LIME_CONFIG_HOME": str(home)}
        subprocess.run([sys.executable, "-m", "lime", "login", "--provider", "openai-compat", "--service", "fake",
                        "--with-api-key", "--with-base-url", server.base_url], input=KEY + "\n", text=True,
                       env=env, check=True, capture_output=True)
        (home / "models.json").write_text(json.dumps({"models": [
            {"slug": "fake-model", "provider": "openai-compat", "service": "fake", "context_window": 32000}]}))
        for name in CASES:
            if only is None or only in name:
                run_case(name, home, server)


if __name__ == "__main__":
    main()
