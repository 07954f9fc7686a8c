"""MCP servers: their configuration, a small JSON-RPC client for the stdio, streamable HTTP and SSE
transports, and the servers' lifecycle.

An adapter beside the runtime: the runtime never imports it. The CLI starts the configured servers
and hands their tools to the session factory, which registers them beside the built-ins. Nothing
here loads unless a server is configured, so a run without MCP pays nothing for it.
"""
