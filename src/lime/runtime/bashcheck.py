"""Split a ``bash`` command into the simple commands it runs, and find what no rule can vouch for.

Permission rules such as ``Bash(git status:*)`` are prefix rules: checked against the raw text,
``git status; rm -rf ~`` would pass. The command is therefore parsed (tree-sitter's bash grammar,
as Codex does) into segments, the simple commands between ``&&``, ``||``, ``;``, ``|``, ``&`` and
newlines, each checked on its own. Whatever the parser cannot classify, and anything that runs
code no rule can see (command or process substitution, backticks, ``eval``, ``sh -c``, arithmetic
expansion, loops, functions) or writes where the rules do not look (a redirection to a file
outside the workspace or to a protected path), is reported as a ``problem``: such a command is
never approved by an allow rule, only by the user (or a mode that approves everything).

The grammar loads on first use (~15 ms), never at start-up.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Node types that only structure a command line (their children are checked).
_STRUCTURE = {"program", "list", "pipeline", "redirected_statement", "subshell", "compound_statement", "comment"}
# Node types that may appear inside a simple command without running anything by themselves.
_WORDS = {
    "command_name", "word", "string", "raw_string", "string_content", "concatenation", "number",
    "simple_expansion", "expansion", "variable_name", "ansi_c_string", "translated_string",
    "variable_assignment", "special_variable_name", "file_descriptor", "heredoc_redirect",
    "heredoc_start", "heredoc_body", "heredoc_content", "heredoc_end", "herestring_redirect",
    "file_redirect", "subscript", "array",
}
_RUNS_CODE = {
    "command_substitution": "a command substitution ($(...) or `...`)",
    "process_substitution": "a process substitution (<(...) or >(...))",
    "arithmetic_expansion": "an arithmetic expansion ($((...)))",
}
SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "busybox", "pwsh"}
EVAL_WORDS = {"eval", "exec", "source", "."}
CHDIR_WORDS = {"cd", "pushd", "popd"}
SAFE_TARGETS = {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"}


@dataclass
class Analysis:
    """What a command line runs (``segments``) and why no allow rule may approve it (``problems``)."""

    segments: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Files written by redirections (resolved paths), for the protected-path check.
    writes: list[str] = field(default_factory=list)
    # A cd in the line makes relative redirection targets unknowable without running it.
    changes_dir: bool = False


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


def _text(node: Any) -> str:
    return bytes(node.text).decode("utf-8", errors="replace")


def _literal(node: Any) -> str | None:
    """The value of a word with no expansion in it (quotes removed), else None."""
    if node.type == "word":
        text = _text(node)
        return None if any(c in text for c in "$`*?[{~\\") else text
    if node.type == "raw_string":
        return _text(node)[1:-1]
    if node.type == "string" and all(c.type in ('"', "string_content") for c in node.children):
        return _text(node)[1:-1]
    return None


def analyse(command: str, cwd: str, inside: Callable[[str], bool]) -> Analysis:
    """Parse ``command`` as run from ``cwd``; ``inside(path)`` says whether a resolved path is in
    the workspace."""
    out = Analysis()
    try:
        tree = _parser().parse(command.encode("utf-8", errors="surrogateescape"))
    except Exception as exc:  # a parser failure must never approve anything
        out.problems.append(f"the command could not be parsed ({type(exc).__name__})")
        return out
    root = tree.root_node
    if root.has_error:
        out.problems.append("the command could not be parsed")
    try:
        _walk(root, out, cwd, inside)
    except RecursionError:
        out.problems.append("the command is nested too deeply to check")
    if out.changes_dir and (out.writes or any("redirection" in p for p in out.problems)):
        out.problems.append("a redirection after changing directory")
    return out


def _walk(node: Any, out: Analysis, cwd: str, inside: Callable[[str], bool]) -> None:
    kind = node.type
    if not node.is_named or kind in _STRUCTURE:
        if node.is_named or kind in ("&&", "||", ";", "|", "|&", "&", "(", ")", "{", "}", "\n"):
            for child in node.children:
                _walk(child, out, cwd, inside)
        else:
            out.problems.append(f"unexpected {kind!r} in the command")
        return
    if kind == "command":
        out.segments.append(_text(node).strip())
        _command(node, out)
        for child in node.children:
            _inner(child, out, cwd, inside)
        return
    if kind == "variable_assignment":  # a statement that only sets a variable
        out.segments.append(_text(node).strip())
        for child in node.children:
            _inner(child, out, cwd, inside)
        return
    if kind in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
        _inner(node, out, cwd, inside)
        return
    # if/for/while/case, functions, [[ ]], declarations, ERROR nodes...: not classified.
    out.problems.append(f"{kind.replace('_', ' ')} is not something rules can check")
    _collect_commands(node, out)


def _collect_commands(node: Any, out: Analysis) -> None:
    """Commands nested in a construct that is not classified still count for deny rules."""
    for child in node.children:
        if child.type == "command":
            out.segments.append(_text(child).strip())
        _collect_commands(child, out)


def _inner(node: Any, out: Analysis, cwd: str, inside: Callable[[str], bool]) -> None:
    kind = node.type
    if kind in _RUNS_CODE:
        if _RUNS_CODE[kind] not in out.problems:
            out.problems.append(_RUNS_CODE[kind])
        _collect_commands(node, out)  # the commands inside still meet the deny rules
        return
    if kind == "file_redirect":
        _redirect(node, out, cwd, inside)
    elif node.is_named and kind not in _WORDS and kind != "command":
        out.problems.append(f"{kind.replace('_', ' ')} is not something rules can check")
    for child in node.children:
        _inner(child, out, cwd, inside)


def _command(node: Any, out: Analysis) -> None:
    words = [c for c in node.children if c.type not in ("variable_assignment", "file_redirect")]
    values = [(_literal(w.children[0]) if w.type == "command_name" and w.children else _literal(w)) for w in words]
    if not values:
        return
    name = os.path.basename(values[0] or "")
    if name in CHDIR_WORDS or values[0] is None:
        out.changes_dir = True
    if name in EVAL_WORDS:
        out.problems.append(f"{name} runs a string as a command")
    for i, value in enumerate(values):
        if value is not None and os.path.basename(value) in SHELLS:
            flags = [v for v in values[i + 1:] if v and v.startswith("-") and not v.startswith("--")]
            if any("c" in f for f in flags):
                out.problems.append(f"{os.path.basename(value)} -c runs a string as a command")
                break


def _redirect(node: Any, out: Analysis, cwd: str, inside: Callable[[str], bool]) -> None:
    children = [c for c in node.children if c.type != "file_descriptor"]
    if not children:
        return
    op = _text(children[0])
    target = children[-1] if len(children) > 1 else None
    if target is None:
        out.problems.append("a redirection without a target")
        return
    if op in (">&", "<&") and (target.type == "number" or _text(target) == "-"):
        return  # duplicating a file descriptor (2>&1)
    value = _literal(target)
    if value is None:
        out.problems.append(f"a redirection to a computed path ({_text(target)})")
        return
    if value in SAFE_TARGETS:
        return
    try:
        path = os.path.realpath(os.path.join(cwd, os.path.expanduser(value)))
    except OSError:
        out.problems.append(f"a redirection to {value}, which could not be resolved")
        return
    if not inside(path):
        out.problems.append(f"a redirection to {value}, outside the workspace")
    if op != "<":
        out.writes.append(path)
