"""``models.json``: reading it without losing anything, and changing it without ever breaking it.

Reads keep every well-formed entry and report each malformed one (file, entry, field).
Writes re-read the file under a lock, work on its raw JSON so entries this version cannot
parse are preserved verbatim, and replace the file atomically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lime import config
from lime.catalog.builtin import BUILTIN_ENTRIES
from lime.catalog.entries import EntryError, ModelEntry, entry_from_json
from lime.errors import ConfigError


@dataclass
class UserModels:
    """The user's ``models.json`` as read: its entries and aliases, what was wrong in it, the raw JSON."""

    path: Path
    entries: list[ModelEntry] = field(default_factory=list)
    # ``"aliases": {"NAME": "SLUG"}``: the user's own short names (they win over the built-in ones).
    aliases: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict)


def _read_document(path: Path) -> dict[str, Any]:
    """The raw file as {"models": [...], ...}. Raises ConfigError if it cannot be trusted as a whole."""
    from lime import jsonguard
    from lime.storage import read_config_text

    text = read_config_text(path)
    if text is None or not text.strip():
        return {"models": []}
    try:
        data = jsonguard.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "fix or move it, lime will not overwrite it"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"{path} is not usable JSON ({exc}); fix or move it, lime will not overwrite it") from None
    if isinstance(data, list):
        data = {"models": data}
    if not isinstance(data, dict) or not isinstance(data.get("models", []), list):
        raise ConfigError(f"{path}: expected an object with a 'models' list")
    data.setdefault("models", [])
    return data


def load_user_models(path: Path | None = None) -> UserModels:
    path = path or config.models_file()
    doc = _read_document(path)
    result = UserModels(path=path, document=doc)
    seen: set[str] = set()
    for i, raw in enumerate(doc["models"]):
        try:
            entry = entry_from_json(raw, index=i, source="user")
        except EntryError as exc:
            result.problems.append(f"{path}: {exc}; entry skipped")
            continue
        if entry.slug in seen:
            result.problems.append(f"{path}: entry {entry.slug!r}, field 'slug': duplicate; the later one wins")
            result.entries = [e for e in result.entries if e.slug != entry.slug]
        seen.add(entry.slug)
        result.entries.append(entry)
    aliases = doc.get("aliases", {})
    if not isinstance(aliases, dict):
        result.problems.append(f"{path}: 'aliases' is not an object; ignored")
        aliases = {}
    for name, slug in aliases.items():
        if isinstance(slug, str) and slug and isinstance(name, str) and name:
            result.aliases[name] = slug
        else:
            result.problems.append(f"{path}: alias {str(name)[:40]!r} does not name a model slug; ignored")
    return result


@dataclass
class Catalog:
    """Built-in entries merged with the user's: same slug replaces, new slugs append."""

    entries: dict[str, ModelEntry]
    user: UserModels

    @property
    def problems(self) -> list[str]:
        return self.user.problems

    def get(self, slug: str) -> ModelEntry | None:
        return self.entries.get(slug)

    def aliases(self) -> dict[str, str]:
        """Every short name: the built-in ones, then the user's (which win)."""
        from lime.catalog.builtin import ALIASES

        return {**ALIASES, **self.user.aliases}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.entries.values())


def load_catalog(path: Path | None = None, *, strict: bool = False) -> Catalog:
    """Merged catalog. A models file that is unreadable as a whole is reported, not fatal, unless strict."""
    try:
        user = load_user_models(path)
    except ConfigError as exc:
        if strict:
            raise
        user = UserModels(path=path or config.models_file(), problems=[str(exc)])
    merged: dict[str, ModelEntry] = {e.slug: e for e in BUILTIN_ENTRIES}
    for entry in user.entries:
        merged[entry.slug] = entry
    return Catalog(entries=merged, user=user)


def _write_document(path: Path, doc: dict[str, Any]) -> None:
    """Replace the file atomically; refuse to write what lime itself could no longer read."""
    from lime.storage import MAX_CONFIG_BYTES, atomic_write_text

    if path.parent == config.config_home():
        config.ensure_home()
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path} would grow to {size / 2**20:.1f} MiB, past the {MAX_CONFIG_BYTES >> 20} MiB lime "
                          "reads; nothing written", hint="add fewer models (lime model import --max-models N, or "
                          "name the ones you want)")
    atomic_write_text(path, text, mode=0o600)


def add_user_entry(entry: ModelEntry, *, replace: bool = False, path: Path | None = None) -> bool:
    """Add (or with replace, overwrite) a user entry. Returns True if an entry was replaced."""
    return add_user_entries([entry], replace=replace, path=path) == 1


def add_user_entries(entries: list[ModelEntry], *, replace: bool = False, path: Path | None = None) -> int:
    """Add (or with replace, overwrite) several entries under one lock with one write (all or none).
    Returns how many replaced an existing user or built-in entry."""
    from lime.storage import locked

    path = path or config.models_file()
    if path.parent == config.config_home():
        config.ensure_home()
    else:
        from lime.storage import write_error

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_error(path, exc) from None
    builtin = {b.slug for b in BUILTIN_ENTRIES}
    with locked(path):
        doc = _read_document(path)
        models: list[Any] = doc["models"]
        present = {m.get("slug") for m in models if isinstance(m, dict)}
        for entry in entries:
            if (entry.slug in present or entry.slug in builtin) and not replace:
                what = "a user model" if entry.slug in present else "a built-in model"
                raise ConfigError(
                    f"slug {entry.slug!r} is already {what}; pass --replace to "
                    + ("replace it" if entry.slug in present else "override it with your entry")
                )
        new = {e.slug for e in entries}
        doc["models"] = [m for m in models if not (isinstance(m, dict) and m.get("slug") in new)]
        doc["models"] += [e.to_json() for e in entries]
        replaced = sum(1 for slug in new if slug in present or slug in builtin)
        _write_document(path, doc)
        return replaced


def remove_user_entry(slug: str, *, path: Path | None = None) -> None:
    from lime.storage import locked

    path = path or config.models_file()
    with locked(path):
        doc = _read_document(path)
        models: list[Any] = doc["models"]
        keep = [m for m in models if not (isinstance(m, dict) and m.get("slug") == slug)]
        if len(keep) == len(models):
            if any(b.slug == slug for b in BUILTIN_ENTRIES):
                raise ConfigError(f"{slug!r} is a built-in model and cannot be removed")
            raise ConfigError(f"no user model {slug!r} in {path}")
        doc["models"] = keep
        _write_document(path, doc)


def set_user_alias(name: str, slug: str, *, path: Path | None = None) -> None:
    """Save ``name`` as a short name for ``slug`` in models.json (slug checked by the caller)."""
    from lime.storage import locked

    path = path or config.models_file()
    if path.parent == config.config_home():
        config.ensure_home()
    with locked(path):
        doc = _read_document(path)
        aliases = doc.get("aliases")
        if not isinstance(aliases, dict):
            aliases = {}
        aliases[name] = slug
        doc["aliases"] = aliases
        _write_document(path, doc)
