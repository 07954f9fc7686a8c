"""Each wire (Chat Completions, Anthropic Messages, OpenAI Responses, Gemini): one-shot overhead
over curl, and streaming rate against a plain httpx + json reader of the same stream.

    python bench/bench_wires.py [--chunks 20000] [--runs 5]

The fake server (tests/support/fakeserver.py, each wire rendered as documented) runs in its own
process. One-shot rows: median wall time of ``lime --model M -p hi`` per wire, over curl posting
the same request (targets: at most +0.15 s over curl, and the native wires within a few ms of the
compat one: their modules load only when used). Stream rows: chunks per CPU-second of lime's client
reading one ``--chunks`` stream, and of httpx ``iter_lines`` + ``json.loads`` reading it, each
event's text taken out (target: lime at least the baseline's rate, ratio >= 1.0 is better). Both read
in the same process, interleaved round by round; the ratio is the median of the rounds' ratios.

    python bench/bench_wires.py --stream-only [--rounds 5]   # the stream rows alone
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

KEY = "sk-bench-0000000000000000"
WIRES = {"chat": ("openai-compat", "compat", "chat/completions"),
         "anthropic": ("anthropic", "claude-sonnet-4-6", "messages"),
         "responses": ("openai", "gpt-5.4", "responses"),
         "gemini": ("gemini", "gemini-2.5-flash", "models/gemini-2.5-flash:streamGenerateContent?alt=sse")}


def serve(chunks: int) -> None:
    from support.fakeserver import FakeServer, Recorded, reply

    long = reply(" tok" * chunks, chunks=chunks, force_stream=True)
    short = reply("Hello! How can I help you today?", chunks=8)

    def respond(req: Recorded) -> object:
        return short if b"warm up" in req.body or b"hi" in req.body else long

    server = FakeServer()
    server.default = respond
    print(server.port, flush=True)
    sys.stdin.read()
    server.close()


def _route(wire: str, base_url: str, model: str):  # type: ignore[no-untyped-def]
    from lime.auth.resolve import ResolvedCredential
    from lime.catalog.entries import ModelEntry
    from lime.catalog.presets import get_preset
    from lime.catalog.routing import Route, capabilities_for

    provider, _, _ = WIRES[wire]
    service = "bench" if wire == "chat" else provider
    preset = get_preset(service)
    entry = ModelEntry(slug=model, provider=provider, service=service if wire == "chat" else None,
                       context_window=1_000_000, api_id=model, max_output=100_000)
    return Route(entry=entry, service=service, preset=preset, base_url=base_url,
                 credential=ResolvedCredential(KEY, "bench", "b"), capabilities=capabilities_for(entry, preset))


def _text_of(wire: str, obj: dict) -> str:  # type: ignore[type-arg]
    if wire == "chat":
        ch = obj.get("choices") or [{}]
        return (ch[0].get("delta") or {}).get("content") or ""
    if wire == "anthropic":
        return (obj.get("delta") or {}).get("text") or ""
    if wire == "responses":
        return obj.get("delta") or "" if obj.get("type") == "response.output_text.delta" else ""
    parts = ((obj.get("candidates") or [{}])[0].get("content") or {}).get("parts") or []
    return "".join(p.get("text", "") for p in parts)


def _lime_rate(client, wire: str) -> float:  # type: ignore[no-untyped-def]
    t = time.process_time()
    n = 0
    for e in client.stream([{"role": "user", "content": "go"}]):  # a loop, as the baseline's is
        if e.kind == "text":
            n += 1
    return n / (time.process_time() - t)


def _httpx_rate(h, wire: str, url: str, body: dict) -> float:  # type: ignore[no-untyped-def,type-arg]
    """The baseline: httpx's own line reader, every event's JSON parsed and its text taken out."""
    t = time.process_time()
    got = 0
    with h.stream("POST", url, json=body, headers={"Authorization": f"Bearer {KEY}"}) as r:
        for line in r.iter_lines():
            if line.startswith("data:") and line[5:].strip() != "[DONE]":
                got += bool(_text_of(wire, json.loads(line[5:])))
    return got / (time.process_time() - t)


def stream_rates(base_url: str, chunks: int, rounds: int) -> list[tuple[str, float, float, float]]:
    """Per wire: (median lime rate, median baseline rate, median of the rounds' ratios). Each round
    reads every wire's stream with both, in the same process, alternating which goes first, so a
    change of load on the machine falls on both sides of a ratio."""
    import statistics

    import httpx

    from lime.providers import open_client

    model = "long-model"
    clients = {wire: open_client(_route(wire, base_url, model), max_retries=2) for wire in WIRES}
    urls = {wire: f"{base_url}/{path.replace('gemini-2.5-flash', model)}" for wire, (_, _, path) in WIRES.items()}
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": "go"}]}
    rates: dict[str, tuple[list[float], list[float]]] = {wire: ([], []) for wire in WIRES}
    with httpx.Client() as h:
        for wire in WIRES:  # the first request's one-time costs, on both sides
            list(clients[wire].stream([{"role": "user", "content": "warm up"}]))
            h.post(urls[wire], json={**body, "messages": [{"role": "user", "content": "warm up"}]}).read()
        for n in range(rounds):
            for wire in WIRES:
                if n % 2:
                    base = _httpx_rate(h, wire, urls[wire], body)
                    lime = _lime_rate(clients[wire], wire)
                else:
                    lime = _lime_rate(clients[wire], wire)
                    base = _httpx_rate(h, wire, urls[wire], body)
                rates[wire][0].append(lime)
                rates[wire][1].append(base)
    for client in clients.values():
        client.close()
    return [(wire, statistics.median(lr), statistics.median(br),
             statistics.median(a / b for a, b in zip(lr, br, strict=True))) for wire, (lr, br) in rates.items()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5, help="interleaved stream rounds per wire")
    ap.add_argument("--stream-only", action="store_true", help="skip the one-shot rows")
    args = ap.parse_args()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(args.chunks)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    base_url = f"http://127.0.0.1:{int(server.stdout.readline())}/v1"
    try:
        if not args.stream_only:
            oneshot(base_url, args.runs)
        print(f"\n{'stream (' + str(args.chunks) + ' chunks)':<28} {'lime':>12} {'httpx+json':>12} {'ratio':>7}"
              f"   median of {args.rounds} interleaved rounds; load average before: {_load()}")
        for wire, lime_rate, base_rate, ratio in stream_rates(base_url, args.chunks, args.rounds):
            print(f"{wire:<28} {lime_rate:10.0f}/s {base_rate:10.0f}/s {ratio:6.2f}x")
        print(f"{'':<28} load average after: {_load()}")
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def oneshot(base_url: str, runs: int) -> None:
    from bench_oneshot import curl_rows, measure

    script = Path(sys.executable).with_name("lime")
    lime = [str(script)] if script.exists() else [sys.executable, "-m", "lime"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("LIME_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(LIME_CONFIG_HOME=str(Path(tmp) / "home"), LIME_MODELS_FILE=str(Path(tmp) / "models.json"),
                   HOME=tmp, LIME_MAX_RETRIES="0")
        for provider in ("anthropic", "openai", "gemini"):
            subprocess.run([*lime, "login", "--provider", provider, "--with-api-key", "--with-base-url", base_url],
                           input=KEY + "\n", text=True, env=env, check=True, capture_output=True)
        subprocess.run([*lime, "login", "--provider", "openai-compat", "--service", "bench", "--with-api-key",
                        "--with-base-url", base_url], input=KEY + "\n", text=True, env=env, check=True,
                       capture_output=True)
        Path(env["LIME_MODELS_FILE"]).write_text(json.dumps({"models": [
            {"slug": "compat", "provider": "openai-compat", "service": "bench", "context_window": 32000,
             "supports_include_usage": True, "supports_tools": True}]}))
        body = json.dumps({"model": "compat", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
        rows = curl_rows(base_url, KEY, body, env, runs)
        for wire, (_, model, _) in WIRES.items():
            measure([*lime, "--model", model, "-p", "hi"], env, 1)  # warm the bytecode cache
            rows.append((f"lime -p hi ({wire})", measure([*lime, "--model", model, "-p", "hi"], env, runs)))
        ref = rows[0][1]
        print(f"{'one-shot':<28} {'wall':>9} {'cpu':>9} {'peak RSS':>10}   over {rows[0][0]}")
        for name, (wall, cpu, peak) in rows:
            print(f"{name:<28} {wall * 1000:7.0f}ms {cpu * 1000:7.0f}ms {peak:7.1f}MiB   "
                  f"+{(wall - ref[0]) * 1000:.0f} ms wall")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]))
    else:
        main()
