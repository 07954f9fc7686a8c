"""`lime mcp add|list|get|remove|enable|disable|reset-project-choices`: the MCP servers configured
for this directory, in the settings files of each scope (see ``lime.mcp.config``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lime.errors import UsageError

SCOPE_HELP = "user (~/.lime/settings.json), local (.lime/settings.local.json) or project (.mcp.json)"


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("mcp", help="add, list, inspect or remove MCP servers")
    msub = p.add_subparsers(dest="mcp_command", metavar="ACTION", required=True)

    add = msub.add_parser("add", help="add a server: NAME COMMAND [ARGS...] (stdio) or NAME URL (--transport)",
                          description="Examples: lime mcp add everything npx -y @modelcontextprotocol/server-everything"
                          " | lime mcp add --transport http docs https://example.com/mcp")
    add.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE",
                     help="environment variable for a stdio server (repeatable; ${NAME} is expanded at start)")
    add.add_argument("-t", "--transport", choices=("stdio", "http", "streamable-http", "sse", "ws"),
                     help="stdio (default) or a remote transport")
    add.add_argument("-s", "--scope", choices=("user", "local", "project"), default="user", help=SCOPE_HELP)
    add.add_argument("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'",
                     help="HTTP header for a remote server (repeatable)")
    add.add_argument("--timeout-ms", type=int, metavar="MS", help="tool call timeout (default 30000)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("target", metavar="COMMAND_OR_URL")
    add.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
    add.set_defaults(handler=run_add)

    ls = msub.add_parser("list", help="configured servers: status, transport, tool count")
    ls.set_defaults(handler=run_list)
    get = msub.add_parser("get", help="one server's configuration, status and tools")
    get.add_argument("name", metavar="NAME")
    get.set_defaults(handler=run_get)
    for action, text in (("remove", "remove a server"), ("enable", "start a server again at launch"),
                         ("disable", "keep a server configured but stopped")):
        sp = msub.add_parser(action, help=text)
        sp.add_argument("-s", "--scope", choices=("user", "local", "project"), help="where (when in several)")
        sp.add_argument("name", metavar="NAME")
        sp.set_defaults(handler=run_edit, action=action)
    login = msub.add_parser("login", help="sign in to a remote server that asks for OAuth (prints the URL to open)")
    login.add_argument("name", metavar="NAME")
    login.set_defaults(handler=run_login)
    logout = msub.add_parser("logout", help="forget a remote server's stored OAuth tokens")
    logout.add_argument("name", metavar="NAME")
    logout.set_defaults(handler=run_logout)
    reset = msub.add_parser("reset-project-choices",
                            help="forget which project servers (.mcp.json, .lime.json) were approved or refused here")
    reset.add_argument("--all", action="store_true", help="for every project")
    reset.set_defaults(handler=run_reset)


def _add_options() -> argparse.ArgumentParser:
    from lime.cli.common import Parser

    p = Parser(prog="lime mcp add", add_help=False)
    p.add_argument("-e", "--env", action="append", default=[])
    p.add_argument("-s", "--scope", choices=("user", "local", "project"))
    p.add_argument("-H", "--header", action="append", default=[])
    p.add_argument("--timeout-ms", type=int)
    return p


def _say(text: str) -> None:
    from lime.textsafe import sanitize

    print(f"lime: {sanitize(text)}", file=sys.stderr)


def run_add(args: argparse.Namespace) -> int:
    from lime.mcp import config as mcfg
    from lime.textsafe import sanitize

    name = mcfg.check_name(args.name)
    rest = list(args.args)
    if rest[:1] == ["--"]:
        rest = rest[1:]
    kind = mcfg.TYPE_ALIASES.get(args.transport or "", args.transport)
    if kind not in (None, "stdio") and rest:
        # Options after the URL ("NAME URL --header ..."): nothing after a URL belongs to a command.
        more = _add_options().parse_args(rest)
        args.header += more.header
        args.env += more.env
        args.scope = more.scope or args.scope
        args.timeout_ms = more.timeout_ms if more.timeout_ms is not None else args.timeout_ms
        rest = []
    if kind is None:
        kind = "stdio"
        if args.target.startswith(("http://", "https://")) and not rest:
            kind = "http"
            _say(f"{args.target} looks like a URL: adding it as a streamable HTTP server (--transport sse for SSE)")
        elif args.target.startswith(("ws://", "wss://")) and not rest:
            kind = "ws"
    entry: dict[str, Any] = {"type": kind}
    if kind == "stdio":
        if args.header:
            raise UsageError("--header is for remote servers (--transport http, sse or ws)")
        env: dict[str, str] = {}
        for item in args.env:
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise UsageError(f"-e {item.split('=')[0]!r}: give KEY=VALUE")
            env[key.strip()] = value
        entry.update({"command": args.target, "args": rest, "env": env})
    else:
        if rest:
            raise UsageError(f"a {kind} server takes a URL and no arguments (got {len(rest)} more)")
        if args.env:
            raise UsageError("-e is for stdio servers; a remote server takes --header")
        from urllib.parse import urlsplit

        parts = urlsplit(args.target)
        wanted = ("ws", "wss") if kind == "ws" else ("http", "https")
        if parts.scheme not in wanted or not parts.netloc:
            raise UsageError(f"{sanitize(args.target)[:100]} is not a {wanted[0]}:// or {wanted[1]}:// URL")
        headers: dict[str, str] = {}
        for item in args.header:
            key, colon, value = item.partition(":")
            if not colon or not key.strip() or any(c.isspace() for c in key.strip()):
                raise UsageError(f"--header {key.strip()[:40]!r}...: give 'Name: value'")
            headers[key.strip()] = value.strip()
        entry.update({"url": args.target, **({"headers": headers} if headers else {})})
    if args.timeout_ms is not None:
        if not 0 < args.timeout_ms <= 86_400_000:
            raise UsageError("--timeout-ms must be a positive number of milliseconds")
        entry["toolCallTimeoutMs"] = args.timeout_ms
    files = mcfg.Files.here()
    path = files.for_scope(args.scope)
    mcfg.parse_server(name, entry, args.scope, str(path))  # the same checks a launch makes

    def change(data: dict[str, Any]) -> bool:
        block = data.setdefault("mcpServers", {})
        if not isinstance(block, dict):
            raise UsageError(f"{path}: mcpServers is not an object; fix the file first")
        existed = name in block
        block[name] = entry
        return existed

    existed = mcfg.edit(path, change)
    what = sanitize(mcfg.parse_server(name, entry, args.scope, str(path)).describe())
    print(f"{'replaced' if existed else 'added'} {kind} MCP server {name} ({args.scope} scope, {path}): {what}")
    if args.scope == "project":
        print("project servers start only after each user approves them on a terminal")
    elif args.scope == "local":
        from lime.runtime import project as projects

        if not projects.is_trusted(files.root):
            print(f"local servers start when {files.root} is trusted (run lime there once on a terminal, or --trust)")
    return 0


def _find(name: str, scope: str | None) -> tuple[Any, Path]:
    from lime.mcp import config as mcfg

    files = mcfg.Files.here()
    scopes = [scope] if scope else ["local", "project", "user"]
    hits: list[tuple[str, Path]] = []
    for s in scopes:
        paths = files.project if s == "project" else [files.for_scope(s)]
        for path in paths:
            data = mcfg.read(path)
            block = data.get("mcpServers") if data else None
            if isinstance(block, dict) and name in block:
                hits.append((s, path))
    if not hits:
        where = f" in {scope} scope" if scope else ""
        raise UsageError(f"no MCP server named {name!r}{where} (see lime mcp list)")
    if len(hits) > 1 and scope is None:
        raise UsageError(f"{name!r} is configured in several scopes ({', '.join(s for s, _ in hits)}); "
                         "choose one with --scope")
    return hits[0]


def run_edit(args: argparse.Namespace) -> int:
    from lime.mcp import config as mcfg

    mcfg.check_name(args.name)
    scope, path = _find(args.name, args.scope)

    def change(data: dict[str, Any]) -> None:
        block = data["mcpServers"]
        if args.action == "remove":
            del block[args.name]
        elif isinstance(block[args.name], dict):
            block[args.name].pop("enabled", None)
            if args.action == "disable":
                block[args.name]["disabled"] = True
            else:
                block[args.name].pop("disabled", None)

    mcfg.edit(path, change)
    done = {"remove": "removed", "enable": "enabled", "disable": "disabled"}[args.action]
    print(f"{done} MCP server {args.name} ({scope} scope, {path})")
    return 0


def run_reset(args: argparse.Namespace) -> int:
    from lime.mcp import choices
    from lime.mcp import config as mcfg

    root = None if args.all else mcfg.project_root()
    n = choices.reset(root)
    where = "every project" if root is None else str(root)
    print(f"forgot {n} project MCP server choice{'s' if n != 1 else ''} for {where}; lime asks again at next launch")
    return 0


def _servers(args: argparse.Namespace, *, start: bool) -> Any:
    from lime.cli.mcp_setup import load_servers

    return load_servers(args, lambda _text: None, start=start, ask=False)


def run_list(args: argparse.Namespace) -> int:
    from lime.textsafe import sanitize

    servers = _servers(args, start=True)
    if servers is None or not servers.servers:
        print("no MCP servers configured (add one with: lime mcp add NAME COMMAND [ARGS...])")
        return 0
    rows = [("NAME", "STATUS", "TRANSPORT", "TOOLS", "SCOPE", "COMMAND / URL")]
    for s in servers.servers.values():
        status = s.state if s.state != "failed" else "failed: " + sanitize(s.error)[:60]
        rows.append((s.cfg.name, status, s.cfg.type, str(s.tool_count) if s.state == "connected" else "-",
                     s.cfg.scope, sanitize(s.cfg.describe())[:80]))
    servers.stop()
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5])
    return 0


def run_get(args: argparse.Namespace) -> int:
    from lime.mcp.tools import tool_name
    from lime.textsafe import sanitize

    servers = _servers(args, start=False)
    s = servers.servers.get(args.name) if servers is not None else None
    if s is None:
        raise UsageError(f"no MCP server named {args.name!r} (see lime mcp list)")
    cfg = s.cfg
    if s.status != "disabled" and s.status != "not approved":
        servers.start_one(s)
    print(f"{cfg.name}:")
    print(f"  scope: {cfg.scope} ({cfg.origin})")
    print(f"  type: {cfg.type}")
    if cfg.type == "stdio":
        print(f"  command: {sanitize(cfg.describe())}")
        if cfg.env:
            print(f"  env: {', '.join(f'{sanitize(k)}=…' for k in sorted(cfg.env))}")
        if cfg.cwd:
            print(f"  cwd: {sanitize(cfg.cwd)}")
    else:
        print(f"  url: {sanitize(cfg.url or '')}")
        if cfg.headers:
            print(f"  headers: {', '.join(f'{sanitize(k)}: …' for k in sorted(cfg.headers))}")
    print(f"  tool call timeout: {cfg.call_timeout * 1000:g} ms")
    status = s.state + (f" ({sanitize(s.error)})" if s.error else "")
    print(f"  status: {status}")
    if s.state == "connected" and s.client is not None:
        info = s.client.info
        if info.get("name"):
            print(f"  server: {sanitize(str(info.get('name')))[:80]} {sanitize(str(info.get('version', '')))[:40]}")
        print(f"  tools ({len(s.client.tools)}):")
        for t in s.client.tools:
            print(f"    {tool_name(cfg.name, t['name'])}")
    servers.stop()
    return 0


def _remote(args: argparse.Namespace) -> Any:
    servers = _servers(args, start=False)
    s = servers.servers.get(args.name) if servers is not None else None
    if s is None:
        raise UsageError(f"no MCP server named {args.name!r} (see lime mcp list)")
    if s.cfg.type not in ("http", "sse"):
        raise UsageError(f"{args.name} is a {s.cfg.type} server; only http and sse servers sign in with OAuth")
    return s.cfg


def run_login(args: argparse.Namespace) -> int:
    from lime.errors import ConfigError
    from lime.mcp import oauth
    from lime.mcp.config import expand
    from lime.mcp.rpc import McpError

    cfg = _remote(args)
    url = expand(cfg.url or "")
    try:
        oauth.login(url, cfg.oauth, _say)
    except McpError as exc:
        raise ConfigError(f"MCP server {args.name}: {exc}") from None
    print(f"signed in to MCP server {args.name}; tokens stored in {oauth.path()}")
    return 0


def run_logout(args: argparse.Namespace) -> int:
    from lime.mcp import oauth
    from lime.mcp.config import expand

    cfg = _remote(args)
    oauth.forget(expand(cfg.url or ""))
    print(f"forgot the OAuth tokens of MCP server {args.name}")
    return 0
