"""Chat entry point (one-shot and REPL)."""

from __future__ import annotations

import argparse


def run_chat(args: argparse.Namespace) -> int:
    from lime.errors import LimeError

    raise LimeError("chat is not available yet")
