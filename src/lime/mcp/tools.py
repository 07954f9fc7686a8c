"""MCP tools as lime tools: ``mcp__SERVER__TOOL``, with names, descriptions and schemas made safe
for the model and the terminal, and results turned into what a tool returns (text, images, an error).

What a server says about itself is a claim: a name is cut to the characters a function name may
hold, a description loses its control characters and is capped, a schema that is not an object
schema is replaced, and ``readOnlyHint`` counts only for servers the user configured (user and
local scope), which plan mode may then offer.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lime.mcp.config import ServerConfig
from lime.mcp.rpc import McpError, Message
from lime.textsafe import sanitize

PREFIX = "mcp__"
MAX_NAME = 64
MAX_DESCRIPTION = 2000
MAX_SCHEMA_CHARS = 30_000
MAX_TEXT = 30_000
MAX_IMAGE_BYTES = 5 << 20
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    clean = _UNSAFE_NAME.sub("_", tool)[: MAX_NAME - len(PREFIX) - len(server) - 2] or "_"
    return f"{PREFIX}{server}__{clean}"


def split_name(name: str) -> tuple[str, str] | None:
    """``mcp__server__tool`` -> (server, tool); ``mcp__server`` -> (server, "")."""
    if not name.startswith(PREFIX):
        return None
    server, _, tool = name[len(PREFIX):].partition("__")
    return (server, tool) if server else None


def _description(text: Any, server: str) -> str:
    body = sanitize(text if isinstance(text, str) else "")
    body = body.replace("\t", " ")
    if len(body) > MAX_DESCRIPTION:
        body = body[:MAX_DESCRIPTION] + " [...]"
    return f"(MCP server {server}) {body}".strip()


def _schema(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or raw.get("type", "object") != "object":
        return {"type": "object", "properties": {}}
    try:
        text = json.dumps(raw)
    except (TypeError, ValueError, RecursionError):
        return {"type": "object", "properties": {}}
    if len(text) > MAX_SCHEMA_CHARS:
        return {"type": "object", "properties": {}, "additionalProperties": True}
    schema = dict(raw)
    schema["type"] = "object"
    schema.setdefault("properties", {})
    return schema


@dataclass
class Outcome:
    text: str
    images: list[tuple[str, str]] = field(default_factory=list)  # (mime type, base64 data)
    is_error: bool = False


@dataclass
class McpTool:
    name: str
    description: str
    parameters: dict[str, Any]
    kind: str  # "read" only for a read-only tool of a user or local server
    server: str
    tool: str
    caller: Callable[[str, str, dict[str, Any], Callable[[Message], None] | None], dict[str, Any]]
    secrets: list[str] = field(default_factory=list)  # masked out of results (see client.secrets_of)

    def run(self, args: dict[str, Any], progress: Callable[[str], None] | None = None) -> Outcome:
        def on_progress(params: Message) -> None:
            if progress is None:
                return
            done, total, msg = params.get("progress"), params.get("total"), params.get("message")
            text = f"{done}/{total}" if total is not None else f"{done}"
            if isinstance(msg, str) and msg:
                text += f" {msg}"
            progress(sanitize(text)[:200])

        try:
            result = self.caller(self.server, self.tool, args, on_progress if progress else None)
        except McpError as exc:
            return Outcome(f"error: {sanitize(str(exc))[:1000]}", is_error=True)
        out = convert(result)
        if self.secrets:
            from lime.auth.masking import redact

            out.text = redact(out.text, self.secrets)
        return out


def make_tools(cfg: ServerConfig, tools: list[dict[str, Any]], caller: Any, taken: set[str],
               secrets: list[str] | None = None) -> tuple[list[McpTool], list[str]]:
    """The server's tools, and notes on those left out (a name that collides after cleaning)."""
    out: list[McpTool] = []
    notes: list[str] = []
    for raw in tools:
        original = raw["name"]
        name = tool_name(cfg.name, original)
        if name in taken:
            notes.append(f"MCP server {cfg.name}: tool {sanitize(original)[:60]!r} left out (its name collides "
                         f"with another as {name})")
            continue
        taken.add(name)
        annotations = raw.get("annotations")
        annotations = annotations if isinstance(annotations, dict) else {}
        read_only = annotations.get("readOnlyHint") is True and cfg.trusted
        title = annotations.get("title") or raw.get("title")
        desc = raw.get("description") or (title if isinstance(title, str) else "")
        out.append(McpTool(name, _description(desc, cfg.name), _schema(raw.get("inputSchema")),
                           "read" if read_only else "exec", cfg.name, original, caller, list(secrets or [])))
    return out, notes


def convert(result: dict[str, Any]) -> Outcome:
    """A CallToolResult as text (and images): text blocks, embedded resources, links, and
    ``structuredContent`` when nothing else says it; ``isError`` makes it a tool error."""
    parts: list[str] = []
    images: list[tuple[str, str]] = []
    content = result.get("content")
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif kind in ("image", "audio"):
            mime = str(block.get("mimeType") or "application/octet-stream")
            data = block.get("data")
            data = data if isinstance(data, str) else ""
            size = len(data) * 3 // 4
            if kind == "image" and data and size <= MAX_IMAGE_BYTES and _is_base64(data):
                images.append((mime, data))
                parts.append(f"[image: {mime}, {size} bytes]")
            else:
                parts.append(f"[{kind}: {sanitize(mime)[:60]}, {size} bytes, not shown]")
        elif kind == "resource" and isinstance(block.get("resource"), dict):
            res = block["resource"]
            uri = sanitize(str(res.get("uri", "")))[:300]
            if isinstance(res.get("text"), str):
                parts.append(f"[resource {uri}]\n{res['text']}")
            else:
                mime = sanitize(str(res.get("mimeType", "binary")))[:60]
                parts.append(f"[resource {uri}: {mime}, not shown]")
        elif kind == "resource_link":
            uri = sanitize(str(block.get("uri", "")))[:300]
            name = sanitize(str(block.get("name", "")))[:100]
            parts.append(f"[resource link {uri}{' ' + name if name else ''}]")
    structured = result.get("structuredContent")
    if structured is not None and not any(p.strip() for p in parts):
        with contextlib.suppress(TypeError, ValueError, RecursionError):
            parts.append(json.dumps(structured, ensure_ascii=False, indent=1)[: MAX_TEXT + 1])
    text = "\n".join(parts) if parts else "(no output)"
    if len(text) > MAX_TEXT:
        head, tail = text[: MAX_TEXT * 2 // 3], text[-(MAX_TEXT // 3):]
        text = f"{head}\n... [{len(text) - len(head) - len(tail)} characters omitted] ...\n{tail}"
    is_error = result.get("isError") is True
    return Outcome(f"error: {text}" if is_error else text, images, is_error)


def _is_base64(data: str) -> bool:
    try:
        base64.b64decode(data[:4096] + "=" * (-len(data[:4096]) % 4), validate=True)
    except ValueError:
        return False
    return True
