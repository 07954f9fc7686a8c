"""Model aliases: the built-in short names, user aliases in models.json (``lime model alias``),
and unknown slugs refused with close matches."""

from __future__ import annotations

import json
from pathlib import Path

from support.fakeserver import reply

from .conftest import Lime


def test_user_aliases_route_and_typos_are_refused(lime: Lime) -> None:
    listed = lime.run("model", "alias")
    assert listed.returncode == 0
    assert any(line.split() == ["sonnet", "claude-sonnet-4-5", "built-in"] for line in listed.stdout.splitlines())
    made = lime.run("model", "alias", "fm", "fake-model")
    assert made.returncode == 0, made.stderr
    doc = json.loads(Path(lime.env["LIME_MODELS_FILE"]).read_text())
    assert doc["aliases"] == {"fm": "fake-model"} and len(doc["models"]) == 2  # the entries are kept
    lime.server.enqueue(reply("via alias"))
    out = lime.run("-m", "fm", "-p", "hi")
    assert out.returncode == 0 and "via alias" in out.stdout, out.stderr
    assert lime.server.last.json["model"] == "fake-model"
    assert "fm" in lime.run("model", "alias").stdout
    # An alias of an alias is stored as the slug it means.
    assert lime.run("model", "alias", "fm2", "fm").returncode == 0
    assert json.loads(Path(lime.env["LIME_MODELS_FILE"]).read_text())["aliases"]["fm2"] == "fake-model"
    typo = lime.run("model", "alias", "x", "fake-modle")
    assert typo.returncode != 0 and "unknown model 'fake-modle'" in typo.stderr and "fake-model" in typo.stderr
    hide = lime.run("model", "alias", "other-model", "fake-model")
    assert hide.returncode != 0 and "already a model slug" in hide.stderr
    bad = lime.run("-m", "fn", "-p", "hi")
    assert bad.returncode != 0 and "did you mean" in bad.stderr and "fm" in bad.stderr
    assert "x" not in json.loads(Path(lime.env["LIME_MODELS_FILE"]).read_text())["aliases"]
