"""Client overhead of lime's Chat Completions client, as ratios to a plain httpx + json baseline.

    python bench/bench_stream.py [--chunks 20000] [--requests 500] [--runs 3]

The server (tests/support/fakeserver.py) runs in a separate process so that only the client's CPU
time is measured (``time.process_time``). Figures: chunks per CPU-second for one 20,000-chunk
stream, in two modes: "per write" (each chunk its own send, like a server generating tokens) and
"burst" (the whole stream in one send, like a fast provider, a buffering proxy or a replay, where
the client's per-chunk cost is all that is left); and CPU microseconds per non-streamed request
over 500 sequential requests on one keep-alive connection. The asyncio client is measured on the
burst stream and the requests against httpx's AsyncClient (for information: it runs the same flow
as the sync client). The official ``openai`` SDK is measured too when it can be imported. Targets: per write within 1.3x of the httpx baseline,
burst at least 50% of its chunks per CPU-second (ratio <= 2.0), requests within 1.1x.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

KEY = "sk-bench-0000000000000000"


def serve(chunks: int) -> None:
    """Server process: print the port, then answer until stdin closes."""
    from support.fakeserver import SSE, FakeServer, JSONResponse, Recorded, chat_completion

    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000, "model": "bench"}
    items: list[object] = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                 "logprobs": None, "finish_reason": None}]}]
    items += [{**base, "choices": [{"index": 0, "delta": {"content": f" tok{i % 100}"}, "logprobs": None,
                                    "finish_reason": None}]} for i in range(chunks - 3)]
    items.append({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]})
    items.append({**base, "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": chunks,
                                                   "total_tokens": chunks + 10}})
    answer = chat_completion("Hello! How can I help you today?", model="bench",
                             usage={"prompt_tokens": 10, "completion_tokens": 9, "total_tokens": 19})

    def respond(req: Recorded) -> object:
        if req.stream:
            burst = isinstance(req.json, dict) and req.json.get("model") == "bench-burst"
            return SSE(items, write_size=1 << 40) if burst else SSE(items)
        return JSONResponse(answer)

    server = FakeServer()
    server.default = respond
    server.requests = _Discard()  # type: ignore[assignment]
    print(server.port, flush=True)
    sys.stdin.read()
    server.close()


class _Discard(list):  # type: ignore[type-arg]
    """Do not keep 20,000 recorded requests in memory during a benchmark."""

    def append(self, item: object) -> None:
        pass


def measure(fn: Callable[[], int], runs: int) -> tuple[float, float, int]:
    """Best (CPU seconds, wall seconds, units) over ``runs``."""
    best: tuple[float, float, int] | None = None
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        n = fn()
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        if best is None or cpu < best[0]:
            best = (cpu, wall, n)
    assert best is not None
    return best


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=20000)
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.chunks)
        return 0

    os.environ["LIME_CONFIG_HOME"] = tempfile.mkdtemp(prefix="lime-bench-")
    proc = subprocess.Popen([sys.executable, __file__, "--serve", "--chunks", str(args.chunks)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    port = int(proc.stdout.readline())
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        return run(base_url, args)
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def run(base_url: str, args: argparse.Namespace) -> int:
    import httpx

    from lime.auth.resolve import ResolvedCredential
    from lime.catalog.entries import ModelEntry
    from lime.catalog.presets import get_preset
    from lime.catalog.routing import Route, capabilities_for
    from lime.providers.openai_compat.client import ChatClient
    from lime.providers.openai_compat.types import RequestOptions, TextDelta

    preset = get_preset("openai")
    entry = ModelEntry(slug="bench", provider="openai", context_window=128000, api_id="bench")
    route = Route(entry=entry, service="openai", preset=preset, base_url=base_url,
                  credential=ResolvedCredential(KEY, "bench", "openai_compat:openai"),
                  capabilities=capabilities_for(entry, preset))
    burst_entry = ModelEntry(slug="bench-burst", provider="openai", context_window=128000, api_id="bench-burst")
    burst_route = replace(route, entry=burst_entry)
    messages = [{"role": "user", "content": "Write a long story."}]
    headers = {"Authorization": f"Bearer {KEY}"}
    url = base_url + "/chat/completions"

    http = httpx.Client()
    lime_client = ChatClient(route)
    lime_burst = ChatClient(burst_route)
    opts = RequestOptions()

    def base_stream(model: str = "bench") -> int:
        n = 0
        text = []
        body = {"model": model, "messages": messages, "stream": True, "stream_options": {"include_usage": True}}
        with http.stream("POST", url, json=body, headers=headers) as r:
            for line in r.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    chunk = json.loads(line[6:])
                    for ch in chunk["choices"]:
                        c = ch["delta"].get("content")
                        if c:
                            text.append(c)
                    n += 1
        return n

    def lime_stream(client: ChatClient = lime_client) -> int:
        n = 0
        with client.stream(messages, opts) as s:
            for ev in s:
                if isinstance(ev, TextDelta):
                    n += 1
        assert s.completion.usage is not None and not s.completion.usage.estimated
        return n + 3

    def base_complete() -> int:
        b = {"model": "bench", "messages": messages}
        for _ in range(args.requests):
            r = http.post(url, json=b, headers=headers)
            json.loads(r.content)["choices"][0]["message"]["content"]
        return args.requests

    def lime_complete() -> int:
        for _ in range(args.requests):
            lime_client.complete(messages, opts)
        return args.requests

    from lime.providers.openai_compat.client import AsyncChatClient

    loop = asyncio.new_event_loop()
    ahttp = httpx.AsyncClient()
    alime = AsyncChatClient(burst_route)

    async def abase_stream() -> int:
        n = 0
        text = []
        body = {"model": "bench-burst", "messages": messages, "stream": True,
                "stream_options": {"include_usage": True}}
        async with ahttp.stream("POST", url, json=body, headers=headers) as r:
            async for line in r.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    chunk = json.loads(line[6:])
                    for ch in chunk["choices"]:
                        c = ch["delta"].get("content")
                        if c:
                            text.append(c)
                    n += 1
        return n

    async def alime_stream() -> int:
        n = 0
        async with alime.stream(messages, opts) as s:
            async for ev in s:
                if isinstance(ev, TextDelta):
                    n += 1
        return n + 3

    async def abase_complete() -> int:
        b = {"model": "bench", "messages": messages}
        for _ in range(args.requests):
            r = await ahttp.post(url, json=b, headers=headers)
            json.loads(r.content)["choices"][0]["message"]["content"]
        return args.requests

    async def alime_complete() -> int:
        for _ in range(args.requests):
            await alime.complete(messages, opts)
        return args.requests

    rows: list[tuple[str, str, float, float, float]] = []
    base_s = measure(base_stream, args.runs)
    lime_s = measure(lime_stream, args.runs)
    base_b = measure(lambda: base_stream("bench-burst"), args.runs)
    lime_b = measure(lambda: lime_stream(lime_burst), args.runs)
    base_c = measure(base_complete, args.runs)
    lime_c = measure(lime_complete, args.runs)
    rows.append(("stream", "httpx iter_lines + json", base_s[2] / base_s[0], 1.0, base_s[1]))
    rows.append(("stream", "lime ChatClient.stream", lime_s[2] / lime_s[0], lime_s[0] / base_s[0], lime_s[1]))
    rows.append(("burst", "httpx iter_lines + json", base_b[2] / base_b[0], 1.0, base_b[1]))
    rows.append(("burst", "lime ChatClient.stream", lime_b[2] / lime_b[0], lime_b[0] / base_b[0], lime_b[1]))
    rows.append(("request", "httpx post + json", base_c[0] / base_c[2] * 1e6, 1.0, base_c[1]))
    rows.append(("request", "lime ChatClient.complete", lime_c[0] / lime_c[2] * 1e6, lime_c[0] / base_c[0],
                 lime_c[1]))
    base_ab = measure(lambda: loop.run_until_complete(abase_stream()), args.runs)
    lime_ab = measure(lambda: loop.run_until_complete(alime_stream()), args.runs)
    base_ac = measure(lambda: loop.run_until_complete(abase_complete()), args.runs)
    lime_ac = measure(lambda: loop.run_until_complete(alime_complete()), args.runs)
    rows.append(("aburst", "httpx async aiter_lines + json", base_ab[2] / base_ab[0], 1.0, base_ab[1]))
    rows.append(("aburst", "lime AsyncChatClient.stream", lime_ab[2] / lime_ab[0], lime_ab[0] / base_ab[0],
                 lime_ab[1]))
    rows.append(("arequest", "httpx async post + json", base_ac[0] / base_ac[2] * 1e6, 1.0, base_ac[1]))
    rows.append(("arequest", "lime AsyncChatClient.complete", lime_ac[0] / lime_ac[2] * 1e6,
                 lime_ac[0] / base_ac[0], lime_ac[1]))

    try:
        import openai
    except ImportError:
        openai = None  # type: ignore[assignment]
    if openai is not None:
        oa = openai.OpenAI(api_key=KEY, base_url=base_url, max_retries=0)

        def sdk_stream() -> int:
            n = 0
            text = []
            for chunk in oa.chat.completions.create(model="bench", messages=messages, stream=True,  # type: ignore[arg-type]
                                                    stream_options={"include_usage": True}):
                if chunk.choices and chunk.choices[0].delta.content:
                    text.append(chunk.choices[0].delta.content)
                n += 1
            return n

        def sdk_complete() -> int:
            for _ in range(args.requests):
                oa.chat.completions.create(model="bench", messages=messages)  # type: ignore[arg-type]
            return args.requests

        sdk_s = measure(sdk_stream, args.runs)
        sdk_c = measure(sdk_complete, args.runs)
        rows.append(("stream", f"openai SDK {openai.__version__}", sdk_s[2] / sdk_s[0], sdk_s[0] / base_s[0],
                     sdk_s[1]))
        rows.append(("request", f"openai SDK {openai.__version__}", sdk_c[0] / sdk_c[2] * 1e6,
                     sdk_c[0] / base_c[0], sdk_c[1]))

    print(f"{args.chunks:,}-chunk stream, one chunk per write and all in one write (burst) (chunks per "
          f"CPU-second), and {args.requests} sequential non-streamed requests (CPU µs per request); best of "
          f"{args.runs}; ratio = CPU time / baseline CPU time")
    print(f"{'test':8} {'client':30} {'figure':>12} {'ratio':>7} {'wall s':>8}")
    for test, name, figure, ratio, wall in rows:
        unit = "µs/req" if test.endswith("request") else "chunks/s"
        print(f"{test:8} {name:30} {figure:>12,.0f} {ratio:>7.2f} {wall:>8.2f}  {unit}")
    targets = (("stream", lime_s[0] / base_s[0], 1.3), ("burst", lime_b[0] / base_b[0], 2.0),
               ("request", lime_c[0] / base_c[0], 1.1))
    ok = all(ratio <= limit for _, ratio, limit in targets)
    print("targets: " + ", ".join(f"{name} {ratio:.2f}x <= {limit}x" for name, ratio, limit in targets)
          + f": {'met' if ok else 'NOT met'}")
    lime_client.close()
    lime_burst.close()
    loop.run_until_complete(alime.close())
    loop.run_until_complete(ahttp.aclose())
    loop.close()
    http.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
