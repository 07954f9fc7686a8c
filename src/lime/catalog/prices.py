"""What tokens cost: USD per million input, cached-input, output and cache-write tokens.

Every built-in model has a row here: the provider's published list price (standard tier, prompts
under any long-context surcharge) with the date it was checked, so a user sees how old a figure
is. Anthropic bills prompt-cache writes apart: 1.25× input for a 5-minute cache, 2× for a 1-hour
one; elsewhere a written token costs what any input token does. A model with no row and no prices
of its own has no known price, and lime says so rather than showing $0. An entry's own prices
(``input_price``... in models.json, from ``lime model add --input-price`` or read from the server
by ``--discover``/``import``) win over the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Prices:
    """What one model's tokens cost, and when and where the figures were read."""

    input: float
    cached_input: float
    output: float
    checked: str | None  # when the figures were read: "2026-06" or "2026-12-05"; None: not recorded
    source: str = "list"  # "list" (the built-in table), "entry" (the model's own entry) or "local"
    cache_write: float | None = None  # per 1M tokens written to a 5-minute prompt cache; None: the input price
    cache_write_1h: float | None = None  # written to a 1-hour cache; None: the 5-minute price
    note: str = ""  # what the figures leave out

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0,
             cache_write_tokens: int = 0, cache_write_1h_tokens: int = 0) -> float:
        """USD for these counts. Cached (read) and written tokens are part of the prompt's count,
        and 1-hour writes part of the written ones."""
        prompt = max(0, prompt_tokens)
        cached = min(max(0, cached_tokens), prompt)
        written = min(max(0, cache_write_tokens), prompt - cached)
        hour = min(max(0, cache_write_1h_tokens), written)
        write = self.input if self.cache_write is None else self.cache_write
        write_1h = write if self.cache_write_1h is None else self.cache_write_1h
        return ((prompt - cached - written) * self.input + cached * self.cached_input
                + (written - hour) * write + hour * write_1h + max(0, completion_tokens) * self.output) / 1_000_000

    def cost_of(self, counts: Mapping[str, Any]) -> float:
        """The cost of a usage or totals record as lime writes them (``prompt_tokens``,
        ``cache_read_tokens``...); a count that is not a whole number counts as 0."""
        def n(*names: str) -> int:
            for name in names:
                value = counts.get(name)
                if isinstance(value, int) and not isinstance(value, bool):
                    return value
            return 0

        return self.cost(n("prompt_tokens"), n("completion_tokens"), n("cache_read_tokens", "cached_tokens"),
                         n("cache_write_tokens"), n("cache_write_1h_tokens"))

    def rates(self) -> str:
        """``$3/$0.3/$15 per 1M in/cached/out`` (and the cache-write prices where they differ)."""
        text = f"${self.input:g}/${self.cached_input:g}/${self.output:g} per 1M in/cached/out"
        if self.cache_write is not None and self.cache_write != self.input:
            text += f", cache writes ${self.cache_write:g}"
            if self.cache_write_1h is not None and self.cache_write_1h != self.cache_write:
                text += f" (5 min)/${self.cache_write_1h:g} (1 h)"
        return text

    def origin(self) -> str:
        """Where the figures come from and how old they are."""
        if self.source == "local":
            return "runs on this machine: no per-token price"
        if self.source == "entry":
            return "this entry's prices" + (f", checked {self.checked}" if self.checked else " (no date recorded)")
        return f"list prices checked {self.checked}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"input": self.input, "cached_input": self.cached_input, "output": self.output}
        if self.cache_write is not None:
            out["cache_write"] = self.cache_write
            out["cache_write_1h"] = self.cache_write if self.cache_write_1h is None else self.cache_write_1h
        out.update(checked=self.checked, source=self.source)
        if self.note:
            out["note"] = self.note
        return out


def _list(inp: float, cached: float | None, out: float, checked: str, note: str = "") -> Prices:
    """A list price; ``cached`` None where the provider gives cached prompts no discount."""
    return Prices(inp, inp if cached is None else cached, out, checked, note=note)


def _claude(inp: float, out: float, checked: str) -> Prices:
    """Anthropic's rule: cache reads at 0.1× input, 5-minute writes at 1.25×, 1-hour writes at 2×."""
    return Prices(inp, round(inp * 0.1, 6), out, checked, cache_write=round(inp * 1.25, 6),
                  cache_write_1h=round(inp * 2, 6))


_LOCAL = Prices(0.0, 0.0, 0.0, None, source="local")
_SEARCH_FEE = "Perplexity also bills a per-request search fee, not counted here"

# slug: list price per 1M tokens, as of the date in each row.
BUILTIN: dict[str, Prices] = {
    "gpt-5.5": _list(5.00, 0.50, 30.00, "2026-06"),
    "gpt-5.4": _list(2.50, 0.25, 15.00, "2026-06"),
    "gpt-5.4-pro": _list(30.00, None, 180.00, "2026-06"),
    "gpt-5.4-mini": _list(0.75, 0.075, 4.50, "2026-06"),
    "gpt-5.4-nano": _list(0.20, 0.02, 1.25, "2026-06"),
    "gpt-5-mini": _list(0.25, 0.025, 2.00, "2025-10"),
    "gpt-4.1": _list(2.00, 0.50, 8.00, "2025-10"),
    "gpt-4o": _list(2.50, 1.25, 10.00, "2025-10"),
    "gpt-4o-mini": _list(0.15, 0.075, 0.60, "2025-10"),
    "o3": _list(2.00, 0.50, 8.00, "2025-10"),
    "o4-mini": _list(1.10, 0.275, 4.40, "2025-10"),
    "o1": _list(15.00, 7.50, 60.00, "2025-10"),
    "claude-opus-4-7": _claude(5.00, 25.00, "2026-07"),
    "claude-opus-4-6": _claude(5.00, 25.00, "2026-07"),
    "claude-opus-4-5": _claude(5.00, 25.00, "2026-07"),
    "claude-opus-4-1": _claude(15.00, 75.00, "2026-07"),
    "claude-sonnet-4-6": _claude(3.00, 15.00, "2026-07"),
    "claude-sonnet-4-5": _claude(3.00, 15.00, "2026-07"),
    "claude-haiku-4-5": _claude(1.00, 5.00, "2026-07"),
    "gemini-2.5-pro": _list(1.25, 0.125, 10.00, "2026-03"),
    "gemini-2.5-flash": _list(0.30, 0.03, 2.50, "2026-03"),
    "gemini-2.5-flash-lite": _list(0.10, 0.01, 0.40, "2026-03"),
    "gemini-3.1-pro-preview": _list(2.00, 0.20, 12.00, "2026-03"),
    "gemini-3-flash-preview": _list(0.50, 0.05, 3.00, "2026-03"),
    "gemini-3.1-flash-lite-preview": _list(0.25, 0.025, 1.50, "2026-03"),
    "llama-3.3-70b": _list(0.59, None, 0.79, "2025-10"),
    "groq-gpt-oss-120b": _list(0.15, 0.075, 0.60, "2026-06"),
    "claude-sonnet-4.5": _claude(3.00, 15.00, "2026-07"),  # OpenRouter passes Anthropic's prices on
    "llama-3.3-70b-turbo": _list(0.88, None, 0.88, "2025-10"),
    "mistral-small": _list(0.15, None, 0.60, "2026-04"),
    "llama-3.1-8b-deepinfra": _list(0.03, None, 0.05, "2025-10"),
    "cerebras-gpt-oss-120b": _list(0.25, None, 0.69, "2025-08"),
    "grok-4": _list(3.00, 0.75, 15.00, "2025-10"),
    "grok-3-mini": _list(0.30, 0.075, 0.50, "2025-10"),
    "sonar": _list(1.00, None, 1.00, "2025-10", note=_SEARCH_FEE),
    "sonar-pro": _list(3.00, None, 15.00, "2025-10", note=_SEARCH_FEE),
    "command-a": _list(2.50, None, 10.00, "2025-10"),
    "llama3.2": _LOCAL,
    "smollm2": _LOCAL,
}

# Built-in models with no per-token list price, and why.
UNPRICED: dict[str, str] = {
    "nvidia-llama-3.3-70b": "NVIDIA's API catalog publishes no per-token price, it runs on trial credits",
}


def prices_for(entry: Any) -> Prices | None:
    """The entry's own prices, else the built-in list's for its slug, else None (unknown)."""
    mine = getattr(entry, "input_price", None), getattr(entry, "output_price", None)
    if mine[0] is not None and mine[1] is not None:
        inp = float(mine[0])
        cached = getattr(entry, "cached_input_price", None)
        write = getattr(entry, "cache_write_price", None)
        write_1h = getattr(entry, "cache_write_1h_price", None)
        if getattr(entry, "provider", None) == "anthropic":  # Anthropic's own rule where the entry says nothing
            write = round(inp * 1.25, 6) if write is None else write
            write_1h = round(inp * 2, 6) if write_1h is None else write_1h
        return Prices(inp, float(cached if cached is not None else inp), float(mine[1]),
                      getattr(entry, "prices_checked", None), source="entry",
                      cache_write=None if write is None else float(write),
                      cache_write_1h=None if write_1h is None else float(write_1h))
    return BUILTIN.get(getattr(entry, "slug", ""))


def unknown(entry: Any) -> str:
    """Why a model has no price, and how to give it one."""
    why = UNPRICED.get(getattr(entry, "slug", ""), "no prices for this model")
    return f"unknown ({why}; give them with lime model add --input-price/--output-price)"


def describe(prices: Prices | None, usd: float | None, entry: Any = None) -> str:
    if prices is None or usd is None:
        return unknown(entry)
    return f"${usd:.4f} ({_at(prices)})"


def _at(prices: Prices) -> str:
    """The prices a cost was worked out at (a local model's are nothing to list)."""
    return prices.origin() if prices.source == "local" else f"at {prices.rates()}; {prices.origin()}"


def show(entry: Any) -> str:
    """The prices line of ``lime model show``."""
    prices = prices_for(entry)
    if prices is None:
        return unknown(entry)
    if prices.source == "local":
        return prices.origin()
    return f"{prices.rates()} ({prices.origin()}" + (f"; {prices.note})" if prices.note else ")")


def session_cost(entry: Any, totals: Mapping[str, Any]) -> str:
    """A session's running cost from its stored totals: each request was priced at its own
    model's prices when it was made (``cost_usd``); requests at unknown prices are named."""
    prices = prices_for(entry)
    cost = totals.get("cost_usd")
    unpriced = totals.get("unpriced_requests") or 0
    if not isinstance(cost, (int, float)) or isinstance(cost, bool):
        # Nothing priced as it was spent (a file from before lime kept the cost): today's prices.
        return unknown(entry) if unpriced or prices is None else describe(prices, prices.cost_of(totals), entry)
    more = f" + {unpriced} request{'s' if unpriced != 1 else ''} at unknown prices" if unpriced else ""
    if prices is None:
        return f"${cost:.4f}{more} (this model's prices are {unknown(entry)})"
    return f"${cost:.4f}{more} ({_at(prices)})"


def cost_json(entry: Any, usage: Mapping[str, Any]) -> dict[str, Any]:
    """``--json``'s ``cost``: the USD for ``usage`` (a Usage's JSON) and the prices used."""
    prices = prices_for(entry)
    if prices is None:
        slug = getattr(entry, "slug", "this model")
        why = UNPRICED.get(slug)
        return {"usd": None, "note": f"no prices known for {slug}" + (f" ({why})" if why else "")}
    return {"usd": round(prices.cost_of(usage), 6), "prices": prices.to_json()}
