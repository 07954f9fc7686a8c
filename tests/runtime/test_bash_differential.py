"""Lime's reading of a command line against bash's own.

Allow rules approve a command by its segments as tree-sitter reads them; the command then runs in
``bash``. Any line both accept must therefore be the same simple commands, word for word, in both.
bash prints its own parse with ``f() { CMD
}; declare -f f``: a canonical form with continuations joined, heredocs re-emitted and each
command on its own line. For every generated line lime finds nothing to object to, the commands
tree-sitter reads in the line must equal those it reads in bash's canonical form of it (which bash
also accepted); a line lime cannot fully see must make it ask instead.

``LIME_BASH_CASES`` raises the number of cases (default 2400, about 10 s on two cores); ``LIME_BASH_RANDOM=1`` draws
new ones instead of the fixed sequence CI runs (add ``--timeout=0`` to pytest for long runs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lime.runtime import bashwords
from lime.runtime.bashcheck import analyse

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")

CASES = int(os.environ.get("LIME_BASH_CASES", "2400"))
BATCH = 80
# Command words that exist nowhere: whatever a generated line runs does nothing.
NAMES = ["qq", "zz", "echo", "git", "ls"]
TOKENS = [
    "qq", "zz", "echo", "ls", "git diff", " ", " ", " ", "\t", "\n", ";", "&", "|", "&&", "||", "(", ")", "{ ",
    " }", "'", '"', "\\", "\\\n", "#", "$x", "${x}", "${x:-y}", "`", "$(", "<<X", "<<'X'", "<<-X", '<<"X"',
    "X", "\tX", "\nX\n", ">", "<", ">>", "2>&1", "a=1", "*", "~", "$'", "\\'", "<<<", "if ", "then ", "fi",
    "done", "do ", "while ", "$((", "))", "[[ ", " ]]", "!", "\r", "--output=f", "-o", "'q z'", '"q z"',
    "\\X", "X\\", "$'\\x41'", "r\"\"m", "{a,b}", "=", "${x:-`qq`}", "case ", " in ", "esac", ";;", "<(", ">(",
    "$[", "${#x}", "${!x}", "@(", "|&", "&>", ">|", "<>", "<&-", "${x//a/b}", "'\\''", "function ", "\\\r\n",
]
PLAIN = st.text(alphabet="abqz.-_/=", min_size=1, max_size=4)
QUOTED = st.one_of(
    PLAIN,
    PLAIN.map(lambda w: f"'{w} x'"),
    PLAIN.map(lambda w: f'"{w} x"'),
    PLAIN.map(lambda w: f"{w}\\ x"),
    PLAIN.map(lambda w: f"$'{w}\\t'"),
    st.sampled_from(["$x", '"$x"', "${x}", "${x:-q}", "'#'", "\\#", "a#b", "'$(qq)'", "\\$(qq)", "'`qq`'"]),
)


@st.composite
def simple(draw: Any) -> str:
    words = [draw(st.sampled_from(NAMES)), *draw(st.lists(QUOTED, max_size=3))]
    if draw(st.booleans()):
        words.insert(0, "a=1")
    if draw(st.integers(0, 3)) == 0:
        words.append(draw(st.sampled_from(["> f", ">>f", "2>&1", "< f", "2>/dev/null", "<<< 'w x'"])))
    return " ".join(words)


@st.composite
def heredoc(draw: Any) -> str:
    delim = draw(st.sampled_from(["X", "'X'", '"X"', "\\X", "-X", "-'X'"]))
    op, delim = ("<<-", delim[1:]) if delim.startswith("-") else ("<<", delim)
    lines = draw(st.lists(st.sampled_from(["hi", "\\", "X", "\tX", "X ", "$x", "a\\", "'", "\tq", "XX", ""]),
                          max_size=4))
    tail = draw(st.sampled_from(["", " | qq", " && zz", "; zz", " > f"]))
    end = draw(st.sampled_from(["X", "\tX", "X", "X "]))
    after = draw(st.sampled_from(["", "\nzz", "\nqq a"]))
    return f"{draw(simple())} {op}{delim}{tail}\n" + "".join(line + "\n" for line in lines) + end + after


@st.composite
def line(draw: Any) -> str:
    parts = [draw(st.one_of(simple(), heredoc()))]
    for _ in range(draw(st.integers(0, 3))):
        parts.append(draw(st.sampled_from(["; ", " && ", " || ", " | ", "\n", " & ", " |& ", " \\\n "])))
        piece = draw(st.one_of(simple(), simple(), heredoc()))
        if draw(st.integers(0, 5)) == 0:
            piece = f"( {piece} )" if draw(st.booleans()) else f"{{ {piece}; }}"
        parts.append(piece)
    if draw(st.integers(0, 5)) == 0:
        parts.append(draw(st.sampled_from([" # note", " #", "# x", " # $(qq)"])))
    return "".join(parts)


SOUP = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=10).map("".join)
LINES = st.lists(st.one_of(line(), line(), SOUP), min_size=BATCH, max_size=BATCH)


def bash_forms(cmds: list[str], tmp: Path) -> list[str | None]:
    """bash's canonical form of each command (None: bash rejects it), in one bash process."""
    files = []
    for i, cmd in enumerate(cmds):
        path = tmp / f"case{i}"
        path.write_bytes(f"f() {{ {cmd}\n}}\n".encode())
        files.append(str(path))
    # Each case in a subshell: a line that makes bash give up cannot take the others with it.
    script = "for c in \"$@\"; do printf '\\036'; ( source \"$c\" >/dev/null 2>&1 </dev/null; declare -f f ); done"
    run = tmp / "run"
    run.mkdir(exist_ok=True)
    out = subprocess.run([BASH or "bash", "--norc", "--noprofile", "-c", script, "bash", *files], cwd=run,
                         capture_output=True, timeout=60, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
    chunks = out.stdout.decode("utf-8", "surrogateescape").split("\x1e")[1:]
    assert len(chunks) == len(cmds), out.stderr
    return [c if c.strip() else None for c in chunks]


def commands(text: str) -> list[tuple[str, ...]]:
    """Every simple command tree-sitter finds, as its words' values (or their text when computed).
    A parser of its own: nothing lime's checks did before can leak into the comparison."""
    import tree_sitter
    import tree_sitter_bash

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
    root = parser.parse(text.encode("utf-8", "surrogateescape")).root_node
    found: list[tuple[str, ...]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "command":
            found.append(tuple(_value(c) for c in node.children if c.is_named and c.type not in (
                "file_redirect", "heredoc_redirect", "herestring_redirect", "comment")))
        stack.extend(reversed(node.children))
    return found


def _value(node: Any) -> str:
    """A word's value, its computed parts as written (bash prints ``$'\\x41'`` as ``'A'``)."""
    value = bashwords.literal(node)
    if value is not None:
        return value
    if node.type in ("concatenation", "command_name"):
        return "".join(_value(c) for c in node.children)
    return bashwords.text(node)


def _inside(path: str) -> bool:
    return True


SETTINGS = settings(max_examples=max(1, CASES // BATCH), deadline=None, database=None,
                    derandomize=os.environ.get("LIME_BASH_RANDOM") != "1",
                    phases=[Phase.explicit, Phase.generate],  # a failure names its line; no shrinking
                    suppress_health_check=list(HealthCheck))


@SETTINGS
@given(cmds=LINES)
def test_what_lime_approves_is_what_bash_runs(cmds: list[str], tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("bash")
    forms = bash_forms(cmds, tmp)
    wrong = [f"{cmd!r}: {why}" for cmd, form in zip(cmds, forms, strict=True) if (why := disagreement(cmd, form))]
    assert not wrong, "\n".join(wrong)
    # The property is not vacuous: lime accepts a good share of what is generated.
    accepted = [c for c in cmds if commands(c) and not analyse(c, "/nonexistent-workspace", _inside).problems]
    assert len(accepted) >= len(cmds) // 10, accepted


def disagreement(cmd: str, form: str | None) -> str:
    if analyse(cmd, "/nonexistent-workspace", _inside).problems or not commands(cmd):
        return ""  # lime asks (or nothing runs): it claims nothing about this line
    if form is None:
        return "lime accepts a line bash rejects"
    if commands(cmd) != commands(form):
        return f"read differently: lime {commands(cmd)} bash {commands(form)} from\n{form}"
    return ""


@pytest.mark.parametrize("cmd", [
    "git diff <<'X'\n\\\nX\ntouch PWNED\nX",  # tree-sitter joins `\` to the next line; bash ends the heredoc
    "qq <<X\nhi\nX \nzz\nX",  # bash needs the delimiter alone on its line
    "qq <<X; zz\nX",
    "qq \\\nzz",  # a line continuation
    'qq "${x:-`zz`}"',
    "qq - 2>&1 | zz",  # tree-sitter drops the `-`
    "qq\r",  # bash reads the carriage return as part of the word
    "qq > f a b",  # tree-sitter files a and b under the redirection
    "do qq", "}qq", "qq == zz", "qq =~ zz", "\nX\n\\X{ ", "{ qq; }# x",
    "a=1 git $'qq\\t' < f | a=1 zz ..qq\\ x | qq 'b x'\na=1 qq 2>/dev/null",  # tree-sitter joins the lines
])
def test_lines_tree_sitter_and_bash_read_differently_ask(cmd: str) -> None:
    assert analyse(cmd, "/nonexistent-workspace", _inside).problems, cmd
