"""An MCP server written with the official SDK, for lime's tests: ``sdk_server.py stdio`` or
``sdk_server.py http|sse PORT``."""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations

server = MCPServer("lime-test-server", version="1.0")
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@server.tool(description="Echo the text back.")
def echo(text: str) -> str:
    return f"echo: {text}"


@server.tool(description="Add two numbers.", annotations=ToolAnnotations(readOnlyHint=True))
def add(a: int, b: int) -> str:
    return str(a + b)


@server.tool(description="Always fails.")
def fail() -> str:
    raise ValueError("this tool always fails")


@server.tool(description="The value of an environment variable, or (unset).")
def env(name: str) -> str:
    return os.environ.get(name, "(unset)")


@server.tool(description="Wait, reporting progress.")
async def slow(seconds: float, ctx: Context, label: str = "step") -> str:
    steps = 4
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"{label} {i + 1}")
        await asyncio.sleep(seconds / steps)
    return f"waited {seconds}"


@server.tool(description="The roots lime announced.")
async def roots(ctx: Context) -> str:
    result = await ctx.session.list_roots()
    return "\n".join(str(r.uri) for r in result.roots)


@server.tool(description="Ask lime's model for text (sampling).")
async def sample(ctx: Context) -> str:
    from mcp_types import SamplingMessage, TextContent

    result = await ctx.session.create_message([SamplingMessage(role="user", content=TextContent(type="text", text="hi"))],
                                              max_tokens=10)
    return f"sampled: {result.content}"


@server.tool(description="Ask the user for their name (elicitation).")
async def ask(ctx: Context) -> str:
    from pydantic import BaseModel

    class Name(BaseModel):
        name: str

    result = await ctx.elicit("What is your name?", Name)
    return f"{result.action}: {result.data.name}" if result.action == "accept" else result.action


@server.tool(description="Log a message to the client.")
async def log(text: str, ctx: Context) -> str:
    await ctx.info(text)
    return "logged"


@server.tool(description="An image.")
def image() -> list:
    from mcp_types import ImageContent, TextContent

    return [TextContent(type="text", text="a pixel"), ImageContent(type="image", data=PNG, mimeType="image/png")]


@server.tool(description="Add a tool named NAME, then tell the client the list changed.")
async def grow(name: str, ctx: Context) -> str:
    def added() -> str:
        return f"{name} works"

    server.add_tool(added, name=name, description="added at run time")
    await ctx.session.send_tool_list_changed()
    return f"added {name}"


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if mode == "stdio":
        server.run("stdio")
    elif mode == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("sse", host="127.0.0.1", port=int(sys.argv[2]))
