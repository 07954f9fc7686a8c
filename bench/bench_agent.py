"""What the agent loop adds to a streamed answer: the tool registry, the event stream (and its
subscribers: the UI and the session writer), key masking and the session file, over the bare
client reading the same stream.

    python bench/bench_agent.py [--chunks 20000] [--runs 5] [--compare OTHER_CHECKOUT/src]

One 20,000-chunk answer (bench_stream's server, in its own process) is read by the client alone
and by ``Agent.run`` with a listener subscribed, both in "per write" and "burst" form; figures are
CPU microseconds per chunk and the agent/client ratio. ``--compare`` runs the same measurement on
another checkout's sources (e.g. one before the event stream) in a subprocess and prints both.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KEY = "sk-bench-0000000000000000"


def measure_all(base_url: str, chunks: int, runs: int) -> dict[str, float]:
    from bench_stream import measure

    from lime.auth.resolve import ResolvedCredential
    from lime.catalog.entries import ModelEntry
    from lime.catalog.presets import get_preset
    from lime.catalog.routing import Route, capabilities_for
    from lime.providers.openai_compat.client import ChatClient
    from lime.providers.openai_compat.types import RequestOptions, TextDelta
    from lime.runtime.agent import Agent, QuietUI, Settings
    from lime.runtime.permissions import Policy
    from lime.runtime.session import Session
    from lime.runtime.tools import Workspace

    preset = get_preset("openai")
    entry = ModelEntry(slug="bench", provider="openai", context_window=1_000_000, api_id="bench")
    route = Route(entry=entry, service="openai", preset=preset, base_url=base_url,
                  credential=ResolvedCredential(KEY, "bench", "openai_compat:openai"),
                  capabilities=capabilities_for(entry, preset))
    burst = replace(route, entry=replace(entry, slug="bench-burst", api_id="bench-burst"))
    messages = [{"role": "user", "content": "Write a long story."}]
    work = Path(tempfile.mkdtemp(prefix="lime-bench-agent-"))
    out: dict[str, float] = {}
    for label, r in (("per write", route), ("burst", burst)):
        client = ChatClient(r)

        def bare(client: ChatClient = client) -> int:
            n = 0
            with client.stream(messages, RequestOptions()) as s:
                for ev in s:
                    if isinstance(ev, TextDelta):
                        n += 1
            return n

        agent = Agent(r, Session.new("bench", directory=work), policy=Policy.from_args(None, False, []),
                      workspace=Workspace.create(cwd=work), settings=Settings(), ui=QuietUI())

        def loop(agent: Agent = agent) -> int:
            agent.clear()
            agent.run("Write a long story.")
            return chunks

        bare()  # warm both paths (connection, imports)
        loop()
        cpu_bare = measure(bare, runs)[0]
        cpu_agent = measure(loop, runs)[0]
        out[f"{label} client"] = cpu_bare / chunks * 1e6
        out[f"{label} agent"] = cpu_agent / chunks * 1e6
        agent.close()
        agent.session.close()
        client.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--src", help=argparse.SUPPRESS)  # measure these sources (for --compare)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--compare", metavar="SRC", help="another checkout's src/ directory to measure too")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, args.src or str(ROOT / "src"))
    os.environ.setdefault("LIME_CONFIG_HOME", tempfile.mkdtemp(prefix="lime-bench-"))
    if args.port:  # a child run for --compare: figures as JSON
        print(json.dumps(measure_all(f"http://127.0.0.1:{args.port}/v1", args.chunks, args.runs)))
        return 0
    server = subprocess.Popen([sys.executable, str(HERE / "bench_stream.py"), "--serve", "--chunks", str(args.chunks)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdin is not None
    port = int(server.stdout.readline())
    try:
        rows = {"this checkout": measure_all(f"http://127.0.0.1:{port}/v1", args.chunks, args.runs)}
        if args.compare:
            proc = subprocess.run([sys.executable, __file__, "--src", args.compare, "--port", str(port),
                                   "--chunks", str(args.chunks), "--runs", str(args.runs)],
                                  capture_output=True, text=True, check=True)
            rows[args.compare] = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    print(f"{args.chunks:,}-chunk answer, best of {args.runs}: CPU µs per chunk (agent / client alone)")
    for name, f in rows.items():
        parts = [f"{mode}: {f[mode + ' agent']:.2f} / {f[mode + ' client']:.2f} = "
                 f"{f[mode + ' agent'] / f[mode + ' client']:.2f}x" for mode in ("per write", "burst")]
        print(f"  {name:<28} " + "   ".join(parts))
    if len(rows) == 2:
        (a, fa), (b, fb) = rows.items()
        for mode in ("per write", "burst"):
            ra = fa[mode + " agent"] / fa[mode + " client"]
            rb = fb[mode + " agent"] / fb[mode + " client"]
            print(f"  {mode}: agent overhead ratio, this checkout vs {b}: {ra / rb:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
