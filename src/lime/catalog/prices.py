"""What tokens cost: USD per million input, cached-input and output tokens.

Built-in prices are the providers' published list prices (standard tier, prompts under any
long-context surcharge) as of ``CHECKED``; a model missing here has no known price, and lime says
so rather than showing $0. A user entry's ``input_price``/``cached_input_price``/``output_price``
(``lime model add --input-price ...``) wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CHECKED = "2025-10"

# slug: (input, cached input, output), USD per 1M tokens.
BUILTIN: dict[str, tuple[float, float, float]] = {
    "gpt-4.1": (2.00, 0.50, 8.00),
    "gpt-4o-mini": (0.15, 0.075, 0.60),
    "o3": (2.00, 0.50, 8.00),
    "claude-sonnet-4-5": (3.00, 0.30, 15.00),
    "claude-haiku-4-5": (1.00, 0.10, 5.00),
    "claude-opus-4-1": (15.00, 1.50, 75.00),
    "claude-opus-4-5": (5.00, 0.50, 25.00),
    "gemini-2.5-pro": (1.25, 0.31, 10.00),
    "gemini-2.5-flash": (0.30, 0.075, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.025, 0.40),
}


@dataclass(frozen=True)
class Prices:
    input: float
    cached_input: float
    output: float
    checked: str  # when the figures were read, or "user"

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        """USD for these counts (cached tokens are part of the prompt's)."""
        cached = min(max(0, cached_tokens), prompt_tokens)
        return ((prompt_tokens - cached) * self.input + cached * self.cached_input
                + completion_tokens * self.output) / 1_000_000


def prices_for(entry: Any) -> Prices | None:
    """The entry's own prices, else the built-in list's for its slug, else None (unknown)."""
    mine = getattr(entry, "input_price", None), getattr(entry, "output_price", None)
    if mine[0] is not None and mine[1] is not None:
        cached = getattr(entry, "cached_input_price", None)
        return Prices(float(mine[0]), float(cached if cached is not None else mine[0]), float(mine[1]), "user")
    known = BUILTIN.get(getattr(entry, "slug", ""))
    if known is None:
        return None
    return Prices(*known, CHECKED)


def describe(prices: Prices | None, usd: float | None) -> str:
    if prices is None or usd is None:
        return "unknown (no prices for this model: lime model add --input-price/--output-price)"
    return f"${usd:.4f} (at ${prices.input:g}/${prices.cached_input:g}/${prices.output:g} per 1M in/cached/out, " \
           f"{'your prices' if prices.checked == 'user' else 'list prices of ' + prices.checked})"


def session_cost(entry: Any, totals: dict[str, Any]) -> str:
    """A session's running cost at ``entry``'s prices, from its stored totals."""
    prices = prices_for(entry)
    usd = None if prices is None else prices.cost(int(totals.get("prompt_tokens") or 0),
                                                  int(totals.get("completion_tokens") or 0),
                                                  int(totals.get("cache_read_tokens") or 0))
    return describe(prices, usd)


def cost_json(entry: Any, prompt_tokens: int, completion_tokens: int, cached_tokens: int) -> dict[str, Any]:
    prices = prices_for(entry)
    if prices is None:
        return {"usd": None, "note": f"no prices known for {getattr(entry, 'slug', 'this model')}"}
    return {"usd": round(prices.cost(prompt_tokens, completion_tokens, cached_tokens), 6),
            "prices": {"input": prices.input, "cached_input": prices.cached_input, "output": prices.output,
                       "checked": prices.checked}}
