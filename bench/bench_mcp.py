"""What MCP servers cost lime: start-up with none configured (nothing of MCP is imported), with one
stdio server (over that server's own initialisation), with five (about the slowest, not the sum),
and a tool call (over the official SDK client calling the same tool of the same server).

    python bench/bench_mcp.py [runs]

Servers: a small stdlib MCP server (this file, ``--server DELAY``: it waits DELAY seconds before
answering initialize) and, when installed (.ci/mcp-servers), the real server-everything from npm.
Wall times are medians of ``runs`` runs; on a busy machine they mostly measure the neighbours.
Targets: no MCP costs what it did (and imports no MCP module); one server adds at most its own
initialisation + 50 ms; five servers cost about the slowest; a tool call adds at most 2 ms over the SDK.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
EVERYTHING = ROOT / ".ci" / "mcp-servers" / "node_modules" / ".bin" / "mcp-server-everything"
KEY = "sk-bench-0000000000000000"


def server(delay: float) -> None:
    """A minimal MCP server on stdio: one tool, ``echo``."""
    for line in sys.stdin:
        msg = json.loads(line)
        rid, method = msg.get("id"), msg.get("method")
        if rid is None:
            continue
        if method == "initialize":
            time.sleep(delay)
            result: object = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                              "serverInfo": {"name": "bench", "version": "1"}}
        elif method == "tools/list":
            result = {"tools": [{"name": "echo", "description": "echo", "inputSchema": {
                "type": "object", "properties": {"text": {"type": "string"}}}}]}
        elif method == "tools/call":
            result = {"content": [{"type": "text", "text": msg["params"]["arguments"].get("text", "")}]}
        else:
            result = {}
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}) + "\n")
        sys.stdout.flush()


def serve_model() -> None:
    from support.fakeserver import FakeServer, reply

    fake = FakeServer()
    fake.default = lambda req: reply("Hello!", chunks=2)
    print(fake.port, flush=True)
    sys.stdin.read()
    fake.close()


def own_init(argv: list[str], runs: int) -> float:
    """The server's own start-up: spawn, initialize, initialized, tools/list, with raw pipes."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdin is not None and proc.stdout is not None
        pipe = proc.stdin

        def ask(obj: dict[str, object], pipe: IO[bytes] = pipe) -> None:
            pipe.write((json.dumps(obj) + "\n").encode())
            pipe.flush()

        ask({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "b", "version": "1"}}})
        while json.loads(proc.stdout.readline()).get("id") != 1:
            pass
        ask({"jsonrpc": "2.0", "method": "notifications/initialized"})
        ask({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
        while json.loads(proc.stdout.readline()).get("id") != 2:
            pass
        times.append(time.perf_counter() - t0)
        proc.kill()
        proc.wait()
    return statistics.median(times)


def run_lime(env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "lime", "-p", "hi"], env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0 or "Hello!" not in proc.stdout or "not available" in proc.stderr:
            raise SystemExit(f"lime failed: {proc.stderr[-500:]}")
    return statistics.median(times)


def configure(home: Path, servers: dict[str, list[str]]) -> None:
    home.mkdir(exist_ok=True)
    block = {name: {"command": argv[0], "args": argv[1:]} for name, argv in servers.items()}
    (home / "settings.json").write_text(json.dumps({"mcpServers": block}))


def mcp_imported(env: dict[str, str]) -> list[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "lime", "-p", "hi"], env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    names = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return sorted(n for n in names if n == "mcp" or n.startswith(("mcp.", "lime.mcp.client", "lime.mcp.rpc")))


def call_overhead(argv: list[str], calls: int) -> tuple[float, float]:
    """Median seconds per ``echo`` call: lime's client, then the official SDK's, same server."""
    from lime.mcp.client import Hooks
    from lime.mcp.config import parse_server
    from lime.mcp.manager import Servers

    cfg = parse_server("bench", {"command": argv[0], "args": argv[1:]}, "user", "bench")
    servers = Servers([cfg], Path.cwd(), Hooks(), print)
    servers.start()
    ours = []
    for i in range(calls):
        t0 = time.perf_counter()
        servers.call("bench", "echo", {"text": f"x{i}"})
        ours.append(time.perf_counter() - t0)
    servers.stop()

    import anyio
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    sdk: list[float] = []

    async def with_sdk() -> None:
        params = StdioServerParameters(command=argv[0], args=argv[1:])
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            for i in range(calls):
                t0 = time.perf_counter()
                await session.call_tool("echo", {"text": f"x{i}"})
                sdk.append(time.perf_counter() - t0)

    anyio.run(with_sdk)
    return statistics.median(ours), statistics.median(sdk)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    model = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    assert model.stdout is not None
    base_url = f"http://127.0.0.1:{int(model.stdout.readline())}/v1"
    fast = [sys.executable, __file__, "--server", "0"]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "home"
            env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("LIME_")}
            env.update(LIME_CONFIG_HOME=str(home), LIME_MODELS_FILE=str(Path(tmp) / "models.json"), HOME=tmp,
                       LIME_MAX_RETRIES="0", LIME_MODEL="bench")
            subprocess.run([sys.executable, "-m", "lime", "login", "--provider", "openai-compat", "--service",
                            "bench", "--with-api-key", "--with-base-url", base_url], input=KEY + "\n", text=True,
                           env=env, check=True, capture_output=True)
            Path(env["LIME_MODELS_FILE"]).write_text(json.dumps({"models": [
                {"slug": "bench", "provider": "openai-compat", "service": "bench", "context_window": 32000}]}))
            run_lime(env, 1)
            none = run_lime(env, runs)
            print(f"no MCP configured:         lime -p hi {none * 1000:6.0f} ms; MCP modules imported: "
                  f"{mcp_imported(env) or 'none'}")
            candidates = [("stdlib server", fast)]
            if EVERYTHING.exists():
                candidates.append(("server-everything (npm)", [str(EVERYTHING)]))
            for label, argv in candidates:
                # Alternate runs without and with the server, so both see the same machine load.
                bare, one, init = [], [], []
                for _ in range(runs):
                    (home / "settings.json").unlink(missing_ok=True)
                    bare.append(run_lime(env, 1))
                    configure(home, {"one": argv})
                    one.append(run_lime(env, 1))
                    init.append(own_init(argv, 1))
                (home / "settings.json").unlink()
                b, o, i = (statistics.median(x) for x in (bare, one, init))
                print(f"one stdio server, {label}: lime -p hi {o * 1000:6.0f} ms = none ({b * 1000:.0f} ms) + "
                      f"server's own init {i * 1000:.0f} ms {'+' if o - b - i >= 0 else '-'} "
                      f"{abs(o - b - i) * 1000:.0f} ms (target: + at most 50 ms)")
            delays = [0.1, 0.2, 0.3, 0.4, 0.5]
            bare, five = [], []
            for _ in range(runs):
                (home / "settings.json").unlink(missing_ok=True)
                bare.append(run_lime(env, 1))
                configure(home, {f"s{i}": [sys.executable, __file__, "--server", str(d)] for i, d in enumerate(delays)})
                five.append(run_lime(env, 1))
            b, f = statistics.median(bare), statistics.median(five)
            slowest = own_init([sys.executable, __file__, "--server", str(max(delays))], runs)
            print(f"five servers (init waits {', '.join(f'{d:g}' for d in delays)} s): lime -p hi {f * 1000:.0f} ms"
                  f" = none ({b * 1000:.0f} ms) + {(f - b) * 1000:.0f} ms; the slowest alone inits in "
                  f"{slowest * 1000:.0f} ms, the five one after another {sum(delays) * 1000 + len(delays) * (slowest - max(delays)) * 1000:.0f} ms")
            ours, sdk = call_overhead(fast, 200)
            print(f"tool call (echo, stdlib server, median of 200): lime {ours * 1000:.2f} ms, official SDK "
                  f"{sdk * 1000:.2f} ms: {(ours - sdk) * 1000:+.2f} ms (target: at most +2 ms)")
    finally:
        if model.stdin:
            model.stdin.close()
        model.wait(5)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--server"]:
        server(float(sys.argv[2]))
    elif sys.argv[1:2] == ["--serve"]:
        serve_model()
    else:
        main()
