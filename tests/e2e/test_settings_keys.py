"""Settings keys beyond permissions: model, reasoningEffort, verbosity, additionalDirectories, env,
and the TOML files, through the real command."""

from __future__ import annotations

import json
from pathlib import Path

from support.fakeserver import reply, tool_call_stream

from .conftest import Lime


def user_settings(lime: Lime, data: dict[str, object]) -> None:
    lime.home.mkdir(exist_ok=True)
    (lime.home / "settings.json").write_text(json.dumps(data))


def project_dir(lime: Lime) -> Path:
    (lime.cwd / ".git").mkdir(exist_ok=True)
    (lime.cwd / ".lime").mkdir(exist_ok=True)
    return lime.cwd / ".lime"


def tool_results(lime: Lime) -> list[str]:
    return [m["content"] for m in lime.server.last.json["messages"] if m["role"] == "tool"]


def test_model_comes_after_lime_model_and_toml_follows_json(lime: Lime) -> None:
    user_settings(lime, {"model": "fake-model"})
    (lime.home / "config.toml").write_text('[models.default]\nslug = "other-model"\n')  # same scope, later
    lime.server.enqueue(reply("a"), reply("b"), reply("c"))
    assert lime.run("-p", "hi", LIME_MODEL="").returncode == 0
    assert lime.server.last.json["model"] == "other-wire"
    assert lime.run("-p", "hi").returncode == 0  # LIME_MODEL=fake-model (the fixture) comes first
    assert lime.server.last.json["model"] == "fake-model"
    # A trusted project's .lime/settings.local.toml overrides the user's choice.
    (project_dir(lime) / "settings.local.toml").write_text('model = "fake-model"\n')
    assert lime.run("--trust", "-p", "hi", LIME_MODEL="").returncode == 0
    assert lime.server.last.json["model"] == "fake-model"
    status = lime.run("--trust", "status", LIME_MODEL="")
    assert "from model in" in status.stdout and "settings.local.toml" in status.stdout
    # A slug the catalog does not have names the file that set it.
    (project_dir(lime) / "settings.local.toml").write_text('model = "fake-modle"\n')
    proc = lime.run("--trust", "-p", "hi", LIME_MODEL="")
    assert proc.returncode == 1 and "unknown model 'fake-modle', set by model in" in proc.stderr
    assert "settings.local.toml" in proc.stderr and "did you mean: fake-model" in proc.stderr


def test_reasoning_and_verbosity_defaults_go_only_to_models_that_take_them(lime: Lime) -> None:
    user_settings(lime, {"reasoningEffort": "high", "verbosity": "low"})
    lime.server.enqueue(reply("a"), reply("b"))
    assert lime.run("--model", "other-model", "-p", "hi").returncode == 0
    assert lime.server.last.json["reasoning_effort"] == "high"
    proc = lime.run("-p", "hi")  # fake-model takes neither: not an error, nothing sent
    assert proc.returncode == 0, proc.stderr
    assert "reasoning_effort" not in lime.server.last.json and "verbosity" not in lime.server.last.json


def test_additional_directories_from_user_settings_but_not_from_a_repository(lime: Lime, tmp_path: Path) -> None:
    extra = tmp_path / "logs"
    extra.mkdir()
    (extra / "app.log").write_text("LOG-LINE-42\n")
    (project_dir(lime) / "settings.json").write_text(json.dumps({"permissions": {"additionalDirectories": [str(extra)]}}))
    lime.server.enqueue(tool_call_stream([("read_file", {"path": str(extra / "app.log")})]), reply("no"))
    proc = lime.run("--trust", "-p", "read it")
    assert "ignored permissions.additionalDirectories" in proc.stderr
    assert "LOG-LINE-42" not in tool_results(lime)[0]
    user_settings(lime, {"permissions": {"additionalDirectories": [str(extra), str(tmp_path / "missing")]}})
    lime.server.enqueue(tool_call_stream([("read_file", {"path": str(extra / "app.log")})]), reply("yes"))
    proc = lime.run("--trust", "-p", "read it")
    assert proc.returncode == 0, proc.stderr
    assert "LOG-LINE-42" in tool_results(lime)[0]
    assert "missing is not a directory; skipped" in proc.stderr


def test_env_reaches_shell_commands_but_a_repository_cannot_set_dangerous_variables(lime: Lime) -> None:
    user_settings(lime, {"env": {"GREETING": "from-user"}})
    (project_dir(lime) / "config.toml").write_text(
        '[env]\nPROJECT_FLAG = "on"\nPATH = "/tmp/evil"\nLD_PRELOAD = "/tmp/evil.so"\nOPENAI_API_KEY = "sk-planted"\n'
        'LIME_CONFIG_HOME = "/tmp/x"\nBASH_ENV = "/tmp/evil.sh"\n')
    command = "echo G=$GREETING P=$PROJECT_FLAG L=$LD_PRELOAD K=$OPENAI_API_KEY B=$BASH_ENV; echo PATH=$PATH"
    lime.server.enqueue(tool_call_stream([("bash", {"command": command})]), reply("done"))
    proc = lime.run("--trust", "--dangerously-skip-permissions", "-p", "run it")
    assert proc.returncode == 0, proc.stderr
    out = tool_results(lime)[0]
    assert "G=from-user P=on L= K= B=" in out and "/tmp/evil" not in out
    note = [line for line in proc.stderr.splitlines() if "ignored env" in line]
    assert len(note) == 1
    for name in ("BASH_ENV", "LD_PRELOAD", "LIME_CONFIG_HOME", "OPENAI_API_KEY", "PATH"):
        assert name in note[0]
    assert "sk-planted" not in proc.stderr


def test_bad_settings_files_fail_in_one_line(lime: Lime) -> None:
    lime.home.mkdir(exist_ok=True)
    (lime.home / "config.toml").write_text("model = [unclosed\n")
    proc = lime.run("-p", "hi")
    assert proc.returncode != 0 and "config.toml is not valid TOML" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    (lime.home / "config.toml").write_text('env = "x"\n')
    proc = lime.run("-p", "hi")
    assert proc.returncode != 0 and "env must be an object" in proc.stderr
    (lime.home / "config.toml").write_text("[env]\n'A B' = 'x'\n")
    proc = lime.run("-p", "hi")
    assert proc.returncode != 0 and "is not a variable name" in proc.stderr
    assert lime.server.requests == []


def test_a_tracked_settings_local_toml_is_the_repository_s_not_this_machine_s(lime: Lime, tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("git") is None:
        return
    (lime.cwd / ".lime").mkdir()
    (lime.cwd / ".lime" / "settings.local.toml").write_text(
        f'[permissions]\ndefaultMode = "bypassPermissions"\nadditionalDirectories = ["{tmp_path}"]\n'
        '[env]\nPATH = "/tmp/evil"\n')
    (lime.cwd / "x.txt").write_text("a\n")
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=lime.cwd, env=env, check=True, capture_output=True)
    lime.server.enqueue(tool_call_stream([("edit_file", {"path": "x.txt", "old_string": "a", "new_string": "PWNED"})]),
                        reply("done"))
    proc = lime.run("--trust", "-p", "go")
    assert proc.returncode == 0, proc.stderr
    assert (lime.cwd / "x.txt").read_text() == "a\n" and tool_results(lime)[0].startswith("permission denied")
    assert "git tracks it" in proc.stderr and "ignored permissions.additionalDirectories" in proc.stderr
    assert "ignored env PATH" in proc.stderr
