"""OpenAI's exact o200k count, loaded only for a close budget call on an OpenAI-family model.

``import bpe_openai`` takes over a second (its ``compat`` module builds three vocabularies to read
their metadata) and refuses long inputs. Its Rust extension alone loads in milliseconds and counts
any length, so it is loaded straight from the installed package, skipping the package's Python
layer. Building the o200k table still costs about 60 ms and 60 MiB, which is why everyday
estimates use ``heuristic`` and this runs only when a decision depends on the last few percent.
"""

from __future__ import annotations

import functools
from typing import Any

# Pieces of at most this many characters, cut at white space, bound the work per call.
_PIECE = 1_000_000


@functools.lru_cache(maxsize=1)
def _tokenizer() -> Any:
    import importlib.machinery
    import importlib.util
    from pathlib import Path

    try:
        spec = importlib.util.find_spec("bpe_openai")
        if spec is None or not spec.submodule_search_locations:
            return None
        folder = Path(next(iter(spec.submodule_search_locations)))
        so = next(iter(sorted(folder.glob("_bindings*.so"))), None)
        if so is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader("bpe_openai._bindings", str(so))
        mod_spec = importlib.util.spec_from_file_location("bpe_openai._bindings", so, loader=loader)
        if mod_spec is None:
            return None
        module = importlib.util.module_from_spec(mod_spec)
        loader.exec_module(module)
        return module.tokenizer_for_encoding("o200k_base")
    except Exception:  # missing or damaged install: the caller keeps its estimate
        return None


def available() -> bool:
    return _tokenizer() is not None


def o200k_count(text: str) -> int | None:
    """The exact o200k count of ``text`` (any length), or None without the tokenizer."""
    tok = _tokenizer()
    if tok is None:
        return None
    total = 0
    start = 0
    try:
        while start < len(text):
            end = start + _PIECE
            if end < len(text):
                cut = text.rfind(" ", start + _PIECE // 2, end)
                end = cut if cut > 0 else end
            total += int(tok.count(text[start:end]))
            start = end
    except Exception:
        return None
    return total
