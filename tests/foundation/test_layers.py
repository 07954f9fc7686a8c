"""lime's architecture holds: no import cycles (imports inside functions included), the layers
contract in pyproject.toml is kept, and the runtime never loads lime's local-server package.

Each rule is also tried against a planted violation in a copy of the tree, so a checker that
stopped looking would fail here."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.importgraph import cycles, graph, path_between

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _cycle_report(src: Path) -> list[str]:
    edges = graph(src)
    return [" -> ".join(path_between(edges, group)) for group in cycles(edges)]


def _lint_imports(project: Path, src: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(src), "LANG": "C.UTF-8", "COLUMNS": "200"}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=project, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """A copy of the project's pyproject.toml and src/lime to plant violations in."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(SRC / "lime", tmp_path / "src" / "lime", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _plant(tree: Path, module: str, line: str) -> None:
    """Add ``line`` (an import inside a function) at the end of ``module``'s file."""
    path = tree / "src" / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    path.write_text(path.read_text(encoding="utf-8") + f"\n\ndef _planted() -> None:\n    {line}\n", encoding="utf-8")


def test_no_import_cycles() -> None:
    assert _cycle_report(SRC) == [], "import cycles among src/lime modules"


def test_a_planted_cycle_inside_a_function_is_found(tree_copy: Path) -> None:
    _plant(tree_copy, "lime.errors", "from lime.cli import main  # noqa")
    found = _cycle_report(tree_copy / "src")
    assert len(found) == 1 and "lime.errors" in found[0] and "lime.cli.main" in found[0], found


def test_layers_contract_is_kept() -> None:
    proc = _lint_imports(ROOT, SRC)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize(("module", "line", "says"), [
    ("lime.runtime.agent", "from lime.local.connect import activate", "lime.runtime is not allowed to import lime.local"),
    ("lime.catalog.routing", "from lime.providers.openai_compat import client", "lime.catalog is not allowed to import"),
    ("lime.providers.openai_compat.request", "import lime.cli.ui", "lime.providers is not allowed to import lime.cli"),
])
def test_a_planted_layer_violation_breaks_the_contract(tree_copy: Path, module: str, line: str, says: str) -> None:
    _plant(tree_copy, module, line)
    proc = _lint_imports(tree_copy, tree_copy / "src")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert says in proc.stdout and "prepare/recover hooks" in proc.stdout, proc.stdout


def test_the_chat_modes_never_import_each_other(tree_copy: Path) -> None:
    _plant(tree_copy, "lime.cli.repl", "from lime.cli.oneshot import run_once")
    proc = _lint_imports(tree_copy, tree_copy / "src")
    assert proc.returncode == 1 and "lime.cli.repl is not allowed to import lime.cli.oneshot" in proc.stdout, proc.stdout


def test_a_new_top_level_module_must_be_given_a_layer(tree_copy: Path) -> None:
    (tree_copy / "src" / "lime" / "newthing.py").write_text('"""Not placed in any layer."""\n')
    proc = _lint_imports(tree_copy, tree_copy / "src")
    assert proc.returncode == 1 and "newthing" in proc.stdout, proc.stdout + proc.stderr


def test_the_agent_loads_no_local_server_code() -> None:
    code = ("import sys, lime.runtime.agent, lime.runtime.setup\n"
            "print(sorted(m for m in sys.modules if m.startswith('lime.local')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_each_package_says_what_it_may_import() -> None:
    import ast

    for init in sorted((SRC / "lime").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import" in doc, f"{init.parent.name}/__init__.py does not say what the package may import"


def test_ci_runs_the_readmes_test_command_with_the_contract() -> None:
    import re

    # the line .ci/run ends with (the lines before it install what the tests need beside lime)
    ci = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln.strip()][-1:]
    readme = re.findall(r"^python3 -m venv .*pytest -q$", (ROOT / "README.md").read_text(), flags=re.M)
    assert ci and ci == readme, "the README's test command and .ci/run differ"
    assert "lint-imports" in ci[0]
