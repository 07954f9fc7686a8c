"""The native wires: Anthropic Messages, OpenAI Responses and Gemini.

Each module holds one wire's request body, stream events and answer parsing; the request flow
itself (retries, healing, overflow detection, bounds, masking) is the Chat Completions client's,
so every wire behaves the same on failure. A wire's module is imported only when a route uses it.
"""
