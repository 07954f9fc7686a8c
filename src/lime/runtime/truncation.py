"""Servers that cut a long prompt without saying so (Ollama's OpenAI endpoint at ``num_ctx``).

The only trace is the usage they report: far fewer prompt tokens than were sent. Estimates and
server counts differ by a tokenizer's worth (tens of percent) plus how a server counts tool
definitions, never by half of a prompt of real size and a thousand tokens at once, so reading
fewer than half of lime's estimate, and over a thousand tokens fewer, is taken as truncation.
"""

from __future__ import annotations

from typing import Any

MIN_PROMPT = 1024  # below this, tokenizer differences dominate and nothing is worth saying
MIN_GAP = 1024  # tokens missing before it counts (a server that ignores tool definitions misses hundreds)
RATIO = 0.5


def truncated(reported_prompt: int, byte_bound: int, estimate: Any) -> int | None:
    """Lime's estimate of the prompt when the server read well under it, else None.

    ``estimate`` is called only when the cheap byte bound leaves room for truncation (it may load
    a tokenizer).
    """
    if reported_prompt <= 0 or byte_bound < MIN_PROMPT or reported_prompt >= byte_bound * RATIO:
        return None
    sent = int(estimate())
    if sent < MIN_PROMPT or reported_prompt >= sent * RATIO or sent - reported_prompt < MIN_GAP:
        return None
    return sent


def notice(route: Any, reported_prompt: int, sent: int) -> str:
    """What happened and the fix, in the words of the server it happened on."""
    base = f"{route.service} read only {reported_prompt:,} of about {sent:,} prompt tokens: the server truncated " \
           "the conversation without an error, so the answer may have missed earlier messages; lime now treats " \
           f"the window as {reported_prompt:,} tokens and compacts."
    is_ollama = route.service == "ollama" or ":11434" in (route.base_url or "")
    if is_ollama:
        return base + (" Fix: start Ollama with OLLAMA_CONTEXT_LENGTH=N, or add the model with "
                       "--extra-body '{\"options\": {\"num_ctx\": N}}' and --context-window N")
    return base + " Fix: raise the server's context size and give the entry a matching --context-window"
