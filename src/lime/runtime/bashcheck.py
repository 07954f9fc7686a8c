"""Split a ``bash`` command into the simple commands it runs, and find what no rule can vouch for.

Permission rules such as ``Bash(git status:*)`` are prefix rules: checked against the raw text,
``git status; rm -rf ~`` would pass. The command is therefore parsed (tree-sitter's bash grammar,
as Codex does) into segments, the simple commands between ``&&``, ``||``, ``;``, ``|``, ``&`` and
newlines, each checked on its own. Commands run with ``bash``, the grammar parsed here; where
tree-sitter and bash could read a line differently (heredoc terminators, line continuations) or
where code runs that no rule can see (backticks or ``$(...)`` anywhere, ``${...}`` included,
process substitution, arithmetic, ``eval``, ``sh -c``, loops, functions) or a command writes where
the rules do not look (a redirection or an ``--output``-style option naming a file outside the
workspace or a protected path), the command gets a ``problem``: it is never approved by an allow
rule, only by the user (or a mode that approves everything).

Deny and ask rules see every command anywhere in the line, each also in ``normalised`` form (the
program's name without path, quotes or backslashes, wrappers such as ``sudo``/``env``/``xargs``
removed, ``sh -c 'STRING'`` parsed in turn). What a deny rule cannot be checked against (a command
word that is not a plain word, ``eval``, ``source``, functions) is listed in ``opaque``.

The grammar loads on first use (~15 ms), never at start-up.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lime.runtime import bashwords as bw
from lime.runtime.bashwords import SHELLS
from lime.runtime.bashwords import text as _text

__all__ = ["SHELLS", "Analysis", "analyse"]

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
# Text that means code runs or lines join, wherever it appears outside single quotes.
_HIDDEN = (("`", "a backtick command substitution"), ("$(", "a command substitution ($(...))"),
           ("$[", "an arithmetic expansion ($[...])"), ("\\\n", "a line continuation (\\ at the end of a line)"))
CHDIR_WORDS = {"cd", "pushd", "popd"}
SAFE_TARGETS = {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"}
_HEREDOC_WORD = re.compile(r"[\w.\-+@%^]+|'[\w.\-+@%^ ]*'|\"[\w.\-+@%^ ]*\"|\\[\w.\-+@%^]+")
# Parents under which a single-quoted string is an argument bash reads as written.
_ARG_PARENTS = {"command", "command_name", "file_redirect", "herestring_redirect", "variable_assignment",
                "declaration_command"}
_MAX_DEPTH = 4
_BEFORE_COMMENT = {b" ", b"\t", b"\n", b";", b"&", b"|", b"(", b")", b"<", b">"}
_NO_NEWLINE = {"word", "number", "variable_name", "special_variable_name", "file_descriptor", "heredoc_start",
               "heredoc_end", "command_name"}
_ONE_LINE = {"command", "redirected_statement", "file_redirect", "variable_assignment", "herestring_redirect"}
# Where bash evaluates arithmetic: a variable holding `a[$(cmd)]` runs cmd there.
_ARITHMETIC = {"arithmetic_expansion", "test_command", "binary_expression"}
_RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for", "in",
             "select", "function", "time", "{", "}", "!", "[[", "]]", "coproc"}
_ANSI_C = re.compile(r"\$'(?:[^'\\]|\\.)*'", re.S)
# What may follow a heredoc's `<<X` on its line: plain redirections only.
_REST_OF_LINE = re.compile(rb"(?:[ \t]*(?:\d?>>?|\d?<|&>>?|\d?>&)[ \t]*[\w./-]+)*[ \t]*")


@dataclass
class Analysis:
    """What a command line runs (``segments``) and why no allow rule may approve it (``problems``)."""

    segments: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Files written by redirections and write options (resolved paths), for the protected-path check.
    writes: list[str] = field(default_factory=list)
    # A cd in the line makes relative redirection targets unknowable without running it.
    changes_dir: bool = False
    # Every command anywhere in the line as it really runs ("rm -rf x" for "sudo /bin/r''m -rf x").
    normalised: list[str] = field(default_factory=list)
    # Why a deny rule cannot be checked against this line.
    opaque: list[str] = field(default_factory=list)
    # Changes as dangerous as writing a protected path (git configuration that runs programs).
    sensitive: list[str] = field(default_factory=list)

    def problem(self, why: str) -> None:
        if why not in self.problems:
            self.problems.append(why)

    def hidden(self, why: str) -> None:
        if why not in self.opaque:
            self.opaque.append(why)


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


def analyse(command: str, cwd: str, inside: Callable[[str], bool], _depth: int = 0) -> Analysis:
    """Parse ``command`` as run from ``cwd``; ``inside(path)`` says whether a resolved path is in
    the workspace."""
    out = Analysis()
    src = command.encode("utf-8", errors="surrogateescape")
    try:
        tree = _parser().parse(src)
    except Exception as exc:  # a parser failure must never approve anything
        out.problem(f"the command could not be parsed ({type(exc).__name__})")
        out.hidden("the command could not be parsed")
        return out
    root = tree.root_node
    if root.has_error:
        out.problem("the command could not be parsed")
        out.hidden("the command could not be parsed")
    try:
        _walk(root, out, cwd, inside)
        masked = _scan(root, src, out)
        _every_command(root, out, cwd, inside, _depth)
    except RecursionError:
        out.problem("the command is nested too deeply to check")
        out.hidden("the command is nested too deeply to check")
        return out
    for needle, why in _HIDDEN:
        if needle.encode() in masked:
            out.problem(why)
    if out.changes_dir and (out.writes or any("redirection" in p for p in out.problems)):
        out.problem("a redirection after changing directory")
    return out


# -- segments: what allow rules are matched against ------------------------------------------


def _walk(node: Any, out: Analysis, cwd: str, inside: Callable[[str], bool]) -> None:
    kind = node.type
    if not node.is_named or kind in _STRUCTURE:
        if node.is_named or kind in ("&&", "||", ";", "|", "|&", "&", "(", ")", "{", "}", "\n"):
            for child in node.children:
                _walk(child, out, cwd, inside)
        else:
            out.problem(f"unexpected {kind!r} in the command")
        return
    if kind == "command":
        out.segments.append(_text(node).strip())
        _command(node, out)
        for child in node.children:
            _inner(child, out)
        return
    if kind == "variable_assignment":  # a statement that only sets a variable
        out.segments.append(_text(node).strip())
        for child in node.children:
            _inner(child, out)
        return
    if kind == "heredoc_redirect":
        for child in node.children:
            if child.type in ("heredoc_start", "heredoc_body", "heredoc_end", "<<", "<<-", "file_redirect",
                              "herestring_redirect"):
                _inner(child, out)
            else:  # the rest of the line after `<<X` (| grep x, && y): statements of their own
                _walk(child, out, cwd, inside)
        return
    if kind in ("file_redirect", "herestring_redirect"):
        _inner(node, out)
        return
    # if/for/while/case, functions, [[ ]], declarations, ERROR nodes...: not classified.
    out.problem(f"{kind.replace('_', ' ')} is not something rules can check")


def _inner(node: Any, out: Analysis) -> None:
    kind = node.type
    if kind in _RUNS_CODE:
        out.problem(_RUNS_CODE[kind])
        return
    if node.is_named and kind not in _WORDS and kind != "command":
        out.problem(f"{kind.replace('_', ' ')} is not something rules can check")
    for child in node.children:
        _inner(child, out)


def _command(node: Any, out: Analysis) -> None:
    _, values = bw.words(node)
    if not values:
        return
    head = next((c for c in node.children if c.type == "command_name"), None)
    if head is not None and (_text(head) in _RESERVED or _text(head)[:1] in "{}"):
        out.problem(f"the reserved word {_text(head)} where bash expects a command")
    name = os.path.basename(values[0] or "")
    if name in CHDIR_WORDS or values[0] is None:
        out.changes_dir = True
    cmd, why = bw.unwrap(values)
    if why:
        out.problem(f"{name or 'the command'}: {why}")
    if cmd and cmd[0] in bw.OPAQUE_WORDS:
        out.problem(bw.OPAQUE_WORDS[cmd[0]])
    if name == "exec":
        out.problem("exec replaces the shell")
    if cmd and bw.shell_script(cmd)[0]:
        out.problem(f"{cmd[0]} runs a script the rules cannot see" if bw.shell_script(cmd)[1] is None
                    else f"{cmd[0]} -c runs a string as a command")


# -- what bash would see that tree-sitter might not ------------------------------------------


def _scan(root: Any, src: bytes, out: Analysis) -> bytes:
    """Check every heredoc, and return the command with what bash reads literally blanked out
    (single-quoted arguments, quoted heredoc bodies): whatever expands is in what remains."""
    masked = bytearray(src)
    subs = bytearray(src)  # the same with visible command substitutions blanked too (deny side)
    skipped = bytearray(src)  # what no token of the tree covers
    spans: list[tuple[int, int]] = []  # simple commands and redirections: no newline may end them early
    heredocs: list[tuple[int, int]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        kind = node.type
        if kind in _ONE_LINE:
            spans.append((node.start_byte, node.end_byte))
        if kind == "heredoc_redirect":
            heredocs.append((node.start_byte, node.end_byte))
        if not node.children or kind in ("heredoc_body", "string", "translated_string", "comment"):
            skipped[node.start_byte:node.end_byte] = b" " * (node.end_byte - node.start_byte)
        if kind in _NO_NEWLINE and b"\n" in bytes(node.text).replace(b"\\\n", b""):
            out.problem("a newline inside a word as tree-sitter reads it")  # bash ends the word there
            out.hidden("a newline inside a word as tree-sitter reads it")
        if kind == "comment" and node.start_byte > 0 and src[node.start_byte - 1:node.start_byte] not in _BEFORE_COMMENT:
            out.problem("a # bash reads as part of a word")  # `}# x` is one word to bash
            out.hidden("a # bash reads as part of a word")
        if kind == "command" and any(not c.is_named for c in node.children):
            out.problem("an operator inside a command")  # `zz == x`: tree-sitter drops the word
            out.hidden("an operator inside a command")
        if kind == "ansi_c_string" and not _ANSI_C.fullmatch(_text(node)):
            out.problem("a $'...' string bash may end elsewhere")
        if kind in ("raw_string", "ansi_c_string") and _is_argument(node):
            masked[node.start_byte:node.end_byte] = b" " * (node.end_byte - node.start_byte)
        elif kind == "heredoc_redirect":
            span = _heredoc(node, src, out)
            if span is not None:  # a quoted body is only ever read as input
                masked[span[0]:span[1]] = b" " * (span[1] - span[0])
                subs[span[0]:span[1]] = b" " * (span[1] - span[0])
        elif kind in ("command_substitution", "process_substitution"):
            subs[node.start_byte:node.end_byte] = b" " * (node.end_byte - node.start_byte)
        stack.extend(node.children)
    if any(b"\n" in skipped[a:b] for a, b in spans) and not _only_heredoc_newlines(skipped, spans, heredocs):
        out.problem("a newline inside one command as tree-sitter reads it")  # bash ends the command there
        out.hidden("a newline inside one command as tree-sitter reads it")
    if bytes(skipped).replace(b"\\\n", b"").translate(None, b" \t\n"):
        out.problem("part of the line the parser passed over")
        out.hidden("part of the line the parser passed over")
    if b"`" in subs or b"$(" in subs:
        out.hidden("a command substitution written inside quotes, which something may run later")
    return bytes(masked)


def _only_heredoc_newlines(skipped: bytearray, spans: list[tuple[int, int]], heredocs: list[tuple[int, int]]) -> bool:
    """Whether every bare newline inside a command is the one that starts a heredoc's body."""
    for a, b in spans:
        at = skipped.find(b"\n", a, b)
        while at >= 0:
            if not any(h0 <= at < h1 for h0, h1 in heredocs) and skipped[at - 1:at] != b"\\":
                return False
            at = skipped.find(b"\n", at + 1, b)
    return True


def _is_argument(node: Any) -> bool:
    parent = node.parent
    while parent is not None and parent.type == "concatenation":
        parent = parent.parent
    return parent is not None and parent.type in _ARG_PARENTS


def _heredoc(node: Any, src: bytes, out: Analysis) -> tuple[int, int] | None:
    """Problems where bash could end this heredoc elsewhere than tree-sitter; the body's span when
    bash reads it literally (a quoted delimiter)."""
    kids = node.children
    start = next((c for c in kids if c.type == "heredoc_start"), None)
    end = next((c for c in kids if c.type == "heredoc_end"), None)
    strip = any(c.type == "<<-" for c in kids)
    if start is None or end is None:
        out.problem("a heredoc without its end line")
        return None
    raw = _text(start)
    if not _HEREDOC_WORD.fullmatch(raw):
        out.problem(f"a heredoc delimiter bash may read differently ({raw})")
        return None
    quoted = raw[0] in "'\"\\"
    delim = raw.strip("'\"").lstrip("\\").encode()
    nl = src.find(b"\n", start.end_byte)
    line_start = src.rfind(b"\n", 0, end.start_byte) + 1
    line_end = src.find(b"\n", end.end_byte)
    line = src[line_start:line_end if line_end >= 0 else len(src)]
    if nl < 0 or nl >= line_start or b"<<" in src[start.end_byte:nl] or _text(end).encode() != delim or \
            (line.lstrip(b"\t") if strip else line) != delim:
        out.problem("a heredoc whose end bash may find elsewhere")
        return None
    body = src[nl + 1:line_start]
    for body_line in body.split(b"\n")[:-1] if body else []:
        if (body_line.lstrip(b"\t") if strip else body_line) == delim or body_line.endswith(b"\\"):
            out.problem("a heredoc whose end bash may find elsewhere")
            return None
    if not _REST_OF_LINE.fullmatch(src[start.end_byte:nl]):
        out.problem("a heredoc with more after it on its line")  # bash prints and reads these its own way
        return None
    return (nl + 1, line_start) if quoted else None


# -- every command, for deny rules and protected paths ---------------------------------------


def _every_command(root: Any, out: Analysis, cwd: str, inside: Callable[[str], bool], depth: int) -> None:
    stack = [root]
    while stack:
        node = stack.pop()
        kind = node.type
        if kind == "command":
            _deny_view(node, out, cwd, inside, depth)
        elif kind == "file_redirect":
            _redirect(node, out, cwd, inside)
        elif kind == "function_definition":
            out.hidden("a function definition")
        elif kind in _ARITHMETIC or (kind == "compound_statement" and _text(node).startswith("((")) or (
                kind == "subscript" and any(c.type not in ("variable_name", "[", "]", "number", "word")
                                            or (c.type == "word" and not c.text.isdigit())
                                            for c in node.children[1:])):
            out.hidden("arithmetic, which runs code a variable may hold")
        elif kind == "declaration_command" and any(c in _text(node) for c in "([$`"):
            out.hidden(f"{_text(node.children[0])} with a computed value")
        elif kind == "variable_assignment" and _text(node).startswith("GIT_"):
            out.sensitive.append("it sets a GIT_ environment variable")
        stack.extend(reversed(node.children))


def _deny_view(node: Any, out: Analysis, cwd: str, inside: Callable[[str], bool], depth: int) -> None:
    assigns, values = bw.words(node)
    if not values:
        return
    cmd, why = bw.unwrap(values)
    if why:
        out.hidden(f"{_text(node).strip()[:60]}: {why}")
        if "GIT_" in why:
            out.sensitive.append(why)
        return
    name = cmd[0]
    if name in bw.OPAQUE_WORDS:
        out.hidden(bw.OPAQUE_WORDS[name])
    is_shell, script = bw.shell_script(cmd)
    if is_shell:
        if script is None or "\0" in script:
            out.hidden(f"{name} runs a script the rules cannot see")
        elif depth >= _MAX_DEPTH:
            out.hidden(f"{name} -c nested too deeply")
        else:
            inner = analyse(script, cwd, inside, depth + 1)
            out.normalised.extend(inner.normalised)
            out.writes.extend(inner.writes)
            out.sensitive.extend(inner.sensitive)
            for why in inner.opaque:
                out.hidden(why)
    if name == "find":
        for i, a in enumerate(cmd):
            if a in ("-exec", "-execdir", "-ok", "-okdir"):
                tail = cmd[i + 1:]
                stop = next((j for j, x in enumerate(tail) if x in (";", "+")), len(tail))
                sub, why = bw.unwrap([None if x == "\0" else x for x in tail[:stop]])
                if why:
                    out.hidden(f"find {a}: {why}")
                elif sub:
                    out.normalised.append(" ".join(sub))
    full = bw.git_subcommand(cmd)
    out.normalised.append(" ".join(full))
    if bw.git_moves(cmd):
        out.changes_dir = True
    change = bw.git_config_change(cmd, assigns)
    if change:
        out.sensitive.append(change)
    for target in bw.write_targets(cmd):
        if "\0" in target:
            out.problem(f"{name} writes to a computed path")
        else:
            _target(target, "written by " + name, out, cwd, inside, write=True)


def _redirect(node: Any, out: Analysis, cwd: str, inside: Callable[[str], bool]) -> None:
    children = [c for c in node.children if c.type != "file_descriptor"]
    if not children:
        return
    op = _text(children[0])
    target = children[1] if len(children) > 1 else None
    if target is None:
        out.problem("a redirection without a target")
        return
    if len(children) > 2:  # `ls > f a b`: tree-sitter files a and b under the redirection
        out.problem("words after a redirection's target")
        out.hidden("words after a redirection's target")
    if op in (">&", "<&") and (target.type == "number" or _text(target) == "-"):
        return  # duplicating a file descriptor (2>&1)
    value = bw.literal(target)
    if value is None:
        out.problem(f"a redirection to a computed path ({_text(target)})")
        return
    _target(value, "a redirection to", out, cwd, inside, write=op != "<", redirect=True)


def _target(value: str, what: str, out: Analysis, cwd: str, inside: Callable[[str], bool], *,
            write: bool, redirect: bool = False) -> None:
    if value in SAFE_TARGETS or not value:
        return
    label = f"a redirection to {value}" if redirect else f"{value} ({what})"
    try:
        path = os.path.realpath(os.path.join(cwd, os.path.expanduser(value)))
    except (OSError, ValueError):
        out.problem(f"{label}, which could not be resolved")
        return
    if not inside(path):
        out.problem(f"{label}, outside the workspace")
    if write:
        out.writes.append(path)
