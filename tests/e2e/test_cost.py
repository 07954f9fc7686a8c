"""Cost: prices per model (built-in list, ``model add --input-price/--output-price``), the cost of
a one-shot in ``--json``, ``/cost`` on a saved session, ``lime status``; unknown prices say so."""

from __future__ import annotations

import json

from support.fakeserver import reply

from .conftest import Lime

USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500,
         "prompt_tokens_details": {"cached_tokens": 400}}


def test_cost_in_json_status_and_resume(lime: Lime) -> None:
    added = lime.run("model", "add", "--slug", "priced", "--provider", "openai-compat", "--service", "fake",
                     "--context-window", "32000", "--input-price", "2", "--cached-input-price", "0.5",
                     "--output-price", "8")
    assert added.returncode == 0, added.stderr
    one_sided = lime.run("model", "add", "--slug", "half", "--provider", "openai-compat", "--service", "fake",
                         "--context-window", "32000", "--input-price", "2")
    assert one_sided.returncode != 0 and "give both" in one_sided.stderr
    lime.server.enqueue(reply("Priced answer.", usage=USAGE), reply("Free?", usage=USAGE))
    out = lime.run("-m", "priced", "--json", "-p", "hi")
    assert out.returncode == 0, out.stderr
    cost = json.loads(out.stdout)["cost"]
    # 600 uncached at $2, 400 cached at $0.5, 500 out at $8 per million.
    assert cost["usd"] == round((600 * 2 + 400 * 0.5 + 500 * 8) / 1e6, 6)
    assert cost["prices"]["checked"] == "user"
    (path,) = lime.sessions()
    assert json.loads(path.read_text().splitlines()[-1])["stats"]["cost_usd"] == cost["usd"]  # the session file
    status = lime.run("status")
    assert "session cost:" in status.stdout and "$0.0054" in status.stdout, status.stdout
    resumed = lime.run("--resume", "latest", "/cost")
    assert resumed.returncode == 0 and "$0.0054" in resumed.stdout, resumed.stderr
    unknown = lime.run("--json", "-p", "hi")
    data = json.loads(unknown.stdout)["cost"]
    assert data["usd"] is None and "no prices known for fake-model" in data["note"]
    resumed = lime.run("--resume", "latest", "/cost")
    assert "unknown (no prices for this model" in resumed.stdout and "$0.00" not in resumed.stdout


def test_builtin_models_carry_list_prices(lime: Lime) -> None:
    from lime.catalog.prices import BUILTIN, prices_for
    from lime.catalog.store import load_catalog

    catalog = load_catalog()
    for slug in BUILTIN:
        entry = catalog.get(slug)
        assert entry is not None, f"{slug} is not a built-in model"
        p = prices_for(entry)
        assert p is not None and p.output >= p.input >= p.cached_input > 0 and p.checked


def test_prices_read_from_a_litellm_proxy(lime: Lime) -> None:
    from support.fakeserver import as_litellm

    from .test_endpoints_e2e import login, models, ok

    as_litellm(lime.server, {
        "priced-qwen": {"max_input_tokens": 16384, "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
                        "cache_read_input_token_cost": 3e-07},
        "free": {"max_input_tokens": 8192, "input_cost_per_token": "lots"},  # not a number: no prices
    }, master_key="sk-litellm-master-0123456789")
    ok(login(lime, "litellm", lime.server.root_url, key="sk-litellm-master-0123456789"))
    ok(lime.run("model", "add", "--slug", "priced-qwen", "--provider", "openai-compat", "--service", "litellm",
                "--discover"))
    entry = models(lime)["priced-qwen"]
    assert (entry["input_price"], entry["cached_input_price"], entry["output_price"]) == (3.0, 0.3, 15.0)
    ok(lime.run("model", "add", "--slug", "free", "--provider", "openai-compat", "--service", "litellm",
                "--discover"))
    assert "input_price" not in models(lime)["free"]
