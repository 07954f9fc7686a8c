"""Cost: prices per model (every built-in's list price with the date it was checked, ``model add
--input-price/--output-price``, prices a LiteLLM proxy or OpenRouter publishes), the cost of a
one-shot in ``--json`` with cached and cache-written prompt tokens at their own rates, ``/cost``
on a saved session, ``lime status``; unknown prices say so instead of $0."""

from __future__ import annotations

import datetime
import json
import re

from support.fakeserver import as_openrouter, reply

from .conftest import Lime
from .test_endpoints_e2e import models, ok
from .test_wires_e2e import use

USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500,
         "prompt_tokens_details": {"cached_tokens": 400}}
DATE = re.compile(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?")


def today() -> str:
    return datetime.datetime.now(datetime.UTC).date().isoformat()


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
    assert cost["prices"]["source"] == "entry" and cost["prices"]["checked"] == today()  # the day they were typed
    (path,) = lime.sessions()
    assert json.loads(path.read_text().splitlines()[-1])["stats"]["cost_usd"] == cost["usd"]  # the session file
    status = lime.run("status")
    assert "session cost:" in status.stdout and "$0.0054" in status.stdout, status.stdout
    assert f"checked {today()}" in status.stdout
    resumed = lime.run("--resume", "latest", "/cost")
    assert resumed.returncode == 0 and "$0.0054" in resumed.stdout, resumed.stderr
    unknown = lime.run("--json", "-p", "hi")
    data = json.loads(unknown.stdout)["cost"]
    assert data["usd"] is None and "no prices known for fake-model" in data["note"]
    resumed = lime.run("--resume", "latest", "/cost")
    assert "unknown (no prices for this model" in resumed.stdout and "$0.00" not in resumed.stdout
    shown = ok(lime.run("model", "show", "fake-model")).stdout
    assert "prices: unknown (no prices for this model" in shown and "$0" not in shown


def test_a_session_that_switches_models_prices_each_request_at_its_own_models_prices(lime: Lime) -> None:
    """Turn 1 on a cheap model, turn 2 (resumed) on a dear one, turn 3 on a model with no prices:
    the running cost sums each request at the prices of the model that answered it, names the
    unpriced one, and survives a resume."""
    for slug, inp, out in (("cheap", "1", "2"), ("dear", "10", "20")):
        ok(lime.run("model", "add", "--slug", slug, "--provider", "openai-compat", "--service", "fake",
                    "--context-window", "32000", "--input-price", inp, "--output-price", out))
    usage = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}
    lime.server.enqueue(reply("one", usage=usage), reply("two", usage=usage), reply("three", usage=usage))
    ok(lime.run("-m", "cheap", "-p", "first"))
    ok(lime.run("--resume", "latest", "-m", "dear", "-p", "second"))
    expected = (1000 * 1 + 100 * 2 + 1000 * 10 + 100 * 20) / 1e6  # not both at the dear prices
    (path,) = lime.sessions()
    assert json.loads(path.read_text().splitlines()[-1])["stats"]["cost_usd"] == round(expected, 6)
    assert f"${expected:.4f}" in ok(lime.run("--resume", "latest", "/cost")).stdout
    ok(lime.run("--resume", "latest", "-m", "fake-model", "-p", "third"))
    cost = ok(lime.run("--resume", "latest", "/cost")).stdout
    assert f"${expected:.4f} + 1 request at unknown prices" in cost, cost
    assert f"${expected:.4f} + 1 request at unknown prices" in ok(lime.run("status")).stdout


def test_every_builtin_model_is_priced_with_the_date_it_was_checked(lime: Lime) -> None:
    from lime.catalog.builtin import BUILTIN_ENTRIES
    from lime.catalog.prices import BUILTIN, UNPRICED, prices_for

    slugs = {e.slug for e in BUILTIN_ENTRIES}
    assert set(BUILTIN) | set(UNPRICED) == slugs  # every built-in is priced, or says why not; no stray rows
    for entry in BUILTIN_ENTRIES:
        p = prices_for(entry)
        if p is None:
            continue
        if p.source == "local":
            assert (p.input, p.output) == (0, 0) and entry.service in ("ollama", "local")
            continue
        assert p.output >= p.input >= p.cached_input > 0, entry.slug
        assert p.checked is not None and DATE.fullmatch(p.checked) and "2025-01" <= p.checked <= today()
        if entry.provider == "anthropic":  # cache writes: 5 minutes at 1.25x input, 1 hour at 2x
            assert (p.cache_write, p.cache_write_1h) == (p.input * 1.25, p.input * 2), entry.slug
    shown = ok(lime.run("model", "show", "claude-sonnet-4-6")).stdout
    assert "prices: $3/$0.3/$15 per 1M in/cached/out, cache writes $3.75 (5 min)/$6 (1 h) " \
           "(list prices checked 20" in shown, shown
    shown = ok(lime.run("model", "show", "gpt-5.4")).stdout
    assert re.search(r"^prices: \$2\.5/\$0\.25/\$15 per 1M in/cached/out \(list prices checked 20[0-9-]+\)$",
                     shown, re.M), shown
    assert "per-request search fee" in ok(lime.run("model", "show", "sonar")).stdout
    assert "no per-token price" in ok(lime.run("model", "show", "smollm2")).stdout
    # What /cost and lime status say for a session on the local model: no list of zero rates.
    from lime.catalog.prices import session_cost

    smollm2 = next(e for e in BUILTIN_ENTRIES if e.slug == "smollm2")
    local = session_cost(smollm2, {"prompt_tokens": 65, "completion_tokens": 20, "requests": 1, "cost_usd": 0.0})
    assert local == "$0.0000 (runs on this machine: no per-token price)", local
    nvidia = ok(lime.run("model", "show", "nvidia-llama-3.3-70b")).stdout
    assert "prices: unknown (NVIDIA's API catalog publishes no per-token price" in nvidia


def test_anthropic_cache_reads_and_writes_are_priced_at_their_rates(lime: Lime) -> None:
    use(lime, "anthropic")  # claude-sonnet-4-6: $3 in, $0.30 cache read, $3.75/$6 cache write, $15 out
    lime.server.enqueue(reply("cached", usage={
        "input_tokens": 10, "cache_read_input_tokens": 1200, "cache_creation_input_tokens": 300,
        "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 100},
        "output_tokens": 5}))
    proc = lime.run("--json", "-p", "hi")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["usage"]["cache_write_1h_tokens"] == 100
    by_hand = (10 * 3 + 1200 * 0.30 + 200 * 3.75 + 100 * 6 + 5 * 15) / 1e6
    assert data["cost"]["usd"] == round(by_hand, 6)
    assert data["cost"]["prices"]["cache_write"] == 3.75 and data["cost"]["prices"]["source"] == "list"
    status = lime.run("status").stdout  # the session's totals price the same way
    assert f"${by_hand:.4f}" in status and "list prices checked 20" in status, status
    resumed = lime.run("--resume", "latest", "/cost").stdout
    assert f"${by_hand:.4f}" in resumed and "1,510 in (1,200 cached, 300 written to the cache)" in resumed, resumed


def test_a_hand_written_price_that_is_not_sane_names_its_field(lime: Lime) -> None:
    lime.add_model("bad-write", input_price=1, output_price=2, cache_write_price=-1)
    lime.add_model("bad-date", input_price=1, output_price=2, prices_checked="last week")
    lime.add_model("good", input_price=1, output_price=2, cache_write_price=1.5, prices_checked="2026-11-30")
    listed = lime.run("model", "list")
    assert listed.returncode == 1
    assert "'bad-write', field 'cache_write_price': must be a number of dollars" in listed.stderr, listed.stderr
    assert "'bad-date', field 'prices_checked': must be a date like 2026-12-05" in listed.stderr
    shown = lime.run("model", "show", "good").stdout
    assert "prices: $1/$1/$2 per 1M in/cached/out, cache writes $1.5 (this entry's prices, checked 2026-11-30)" \
        in shown, shown


def test_prices_read_from_a_litellm_proxy(lime: Lime) -> None:
    from support.fakeserver import as_litellm

    from .test_endpoints_e2e import login

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
    assert entry["prices_checked"] == today()
    ok(lime.run("model", "add", "--slug", "free", "--provider", "openai-compat", "--service", "litellm",
                "--discover"))
    assert "input_price" not in models(lime)["free"]


HOSTILE_PRICES = {
    "neg/ative": {"prompt": "-1", "completion": "-1"},  # OpenRouter's own "variable price" routers
    "nan/model": {"prompt": "NaN", "completion": "0.00001"},
    "huge/model": {"prompt": "1e999", "completion": "5"},
    "words/model": {"prompt": "three dollars", "completion": "0x10"},
    "typed/model": {"prompt": True, "completion": [1]},
    "long/model": {"prompt": "0." + "0" * 5000 + "1", "completion": "0.000001"},
}


def test_prices_read_from_openrouter_and_hostile_ones_ignored(lime: Lime) -> None:
    as_openrouter(lime.server, {
        "anthropic/claude-sonnet-4.5": {"context_length": 1000000},  # the default pricing: Claude Sonnet's
        "meta-llama/llama-3.3-70b-instruct:free": {"context_length": 131072, "supported_parameters": ["max_tokens"],
                                                  "pricing": {"prompt": "0", "completion": "0"}},
        "qwen/qwen3-coder": {"pricing": {"prompt": 2.2e-07, "completion": "0.00000095", "input_cache_read": "junk"}},
        **{name: {"pricing": pricing} for name, pricing in HOSTILE_PRICES.items()},
    })
    imported = ok(lime.run("model", "import", "fake"))
    assert f"Imported {3 + len(HOSTILE_PRICES)} models from openrouter" in imported.stdout, imported.stdout
    found = models(lime)
    claude = found["anthropic/claude-sonnet-4.5"]
    assert (claude["input_price"], claude["cached_input_price"], claude["output_price"],
            claude["cache_write_price"]) == (3.0, 0.3, 15.0, 3.75)
    assert claude["prices_checked"] == today() and claude["context_window"] == 1000000
    assert claude["supports_tools"] is True and claude["supports_vision"] is True
    free = found["meta-llama/llama-3.3-70b-instruct:free"]
    assert (free["input_price"], free["output_price"]) == (0.0, 0.0) and free["supports_tools"] is False
    qwen = found["qwen/qwen3-coder"]  # a number is read too; a junk cache price is left out, not fatal
    assert (qwen["input_price"], qwen["output_price"]) == (0.22, 0.95) and "cached_input_price" not in qwen
    for name in HOSTILE_PRICES:
        assert not any(k.endswith("_price") for k in found[name]), (name, found[name])
    shown = ok(lime.run("model", "show", "neg/ative")).stdout
    assert "prices: unknown (no prices for this model" in shown

    # a chat through the imported entry: OpenRouter's usage counts cache reads and writes apart
    lime.server.enqueue(reply("ok", usage={"prompt_tokens": 2000, "completion_tokens": 100, "total_tokens": 2100,
                                           "prompt_tokens_details": {"cached_tokens": 1500,
                                                                     "cache_write_tokens": 400}}))
    out = ok(lime.run("-m", "anthropic/claude-sonnet-4.5", "--json", "-p", "hi"))
    cost = json.loads(out.stdout)["cost"]
    assert cost["usd"] == round((100 * 3 + 1500 * 0.3 + 400 * 3.75 + 100 * 15) / 1e6, 6)
    assert cost["prices"]["checked"] == today() and cost["prices"]["source"] == "entry"
    lime.server.enqueue(reply("ok", usage=USAGE))
    out = ok(lime.run("-m", "huge/model", "--json", "-p", "hi"))
    assert json.loads(out.stdout)["cost"]["usd"] is None


def test_model_add_takes_a_cache_write_price_and_needs_the_input_and_output_ones(lime: Lime) -> None:
    ok(lime.run("model", "add", "--slug", "cached", "--provider", "openai-compat", "--service", "fake",
                "--context-window", "32000", "--input-price", "3", "--output-price", "15",
                "--cache-write-price", "3.75"))
    shown = ok(lime.run("model", "show", "cached")).stdout
    assert f"prices: $3/$3/$15 per 1M in/cached/out, cache writes $3.75 (this entry's prices, checked {today()})" \
        in shown, shown
    alone = lime.run("model", "add", "--slug", "alone", "--provider", "openai-compat", "--service", "fake",
                     "--context-window", "32000", "--cache-write-price", "3.75")
    assert alone.returncode != 0 and "need --input-price and --output-price" in alone.stderr
    assert "alone" not in ok(lime.run("model", "list")).stdout
