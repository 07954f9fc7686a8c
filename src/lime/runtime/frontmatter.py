"""The frontmatter of Markdown files users write (custom commands, skills): ``key: value`` lines
between ``---`` lines at the top; a key with an empty value followed by ``- item`` lines holds a
list (kept comma-joined). Not YAML: nothing here runs or resolves anything."""

from __future__ import annotations


def parse(text: str) -> tuple[dict[str, str], str]:
    """(frontmatter with lower-case keys, body); no frontmatter: ({}, text)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    meta: dict[str, str] = {}
    last: str | None = None
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return meta, "\n".join(lines[i + 1:]).lstrip("\n")
        item = line.strip()
        if item.startswith("- ") and last is not None:
            value = item[2:].strip().strip("\"'")
            meta[last] = f"{meta[last]}, {value}" if meta[last] else value
            continue
        key, sep, value = line.partition(":")
        if sep and key.strip():
            last = key.strip().lower()
            meta[last] = value.strip().strip("\"'")
    return {}, text  # no closing line: all of it is the body


def items(value: str) -> list[str]:
    """A list value: ``[a, b]``, ``a, b`` or ``a b`` (rules like ``Bash(git diff:*)`` stay whole)."""
    value = value.strip().removeprefix("[").removesuffix("]")
    out: list[str] = []
    depth = 0
    word = ""
    for ch in value:
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and (ch == "," or ch.isspace()):
            if word.strip():
                out.append(word.strip().strip("\"'"))
            word = ""
        else:
            word += ch
    if word.strip():
        out.append(word.strip().strip("\"'"))
    return out
