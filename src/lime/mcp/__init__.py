"""MCP servers: their configuration, a small JSON-RPC client for the stdio, streamable HTTP and SSE
transports, OAuth sign-in, and the servers' lifecycle.

May import: providers (its HTTP client and event-stream decoder), catalog, config, storage, errors
and the leaf modules. Never runtime or cli: it is an adapter beside the runtime. The CLI starts the
configured servers and hands their tools to the session factory, which registers them beside the
built-ins. Nothing here beyond ``config`` loads unless a server is configured, so a run without
MCP pays nothing for it.
"""
