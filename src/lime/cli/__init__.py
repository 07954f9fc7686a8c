"""Argument parsing, the REPL and rendering. Nothing below the CLI imports it."""
