"""Transports to LLM services.

May import: tokens, catalog, auth, config, storage, errors and the leaf modules. Never runtime,
local or cli.
"""
