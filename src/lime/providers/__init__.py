"""Transports to LLM services. Never imports the CLI or the runtime."""
