"""Estimates that learn each server's tokenizer from the usage it reports.

Per service and model, a server's prompt count is modelled as its chat template's fixed cost (per
request, per message, and a default system prompt some templates add when the request has none)
plus a ratio times lime's estimate of the text; its completion count as a ratio times the answer's
estimate plus an end-of-answer cost. The six numbers are a Bayesian least-squares fit: priors
centred on OpenAI's format, each reported usage a pair of observations, older ones fading, and
the two ratios tied together loosely (the same tokenizer reads prompt and answer). One reported
usage already moves the fit most of the way; the sufficient statistics live in
``<config home>/token-calibration.json`` (atomic writes under a lock, a few hundred bytes a model).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lime import config
from lime.tokens import (
    O200K,
    REPLY_PRIMING,
    TOKENS_PER_MESSAGE,
    Profile,
    count_text,
    exact_count,
    profile_for,
    prompt_parts,
)

FILE_NAME = "token-calibration.json"
# Parameters: per request, per message, without a system message, prompt ratio, per answer, answer ratio.
# A template's own cost is small per request and per message (ChatML: 3 and 5); what a first request
# without a system message reveals beyond that is mostly a default system prompt the template adds.
PRIOR = (float(REPLY_PRIMING), float(TOKENS_PER_MESSAGE), 0.0, 1.0, 0.0, 1.0)
PRIOR_SD = (6.0, 4.0, 60.0, 0.2, 3.0, 0.2)
COUPLING_SD = 0.08     # prompt and answer ratios differ by about this much at most
DECAY = 0.8            # weight left to the older observations at each new one
MAX_MODELS = 200
SETTLED_AFTER = 3      # responses before one that agrees with the fit (within 3%) is not stored
CLOSE_CALL = 0.12      # within this fraction of a limit, OpenAI-family models get the exact count
_N = len(PRIOR)


def path() -> Path:
    return config.config_home() / FILE_NAME


def _key(service: str, model: str) -> str:
    return f"{service}\t{model}"


def _load() -> dict[str, Any]:
    try:
        data = json.loads(path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    models = data.get("models") if isinstance(data, dict) else None
    return models if isinstance(models, dict) else {}


def _solve(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting on a small symmetric positive system."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            if f:
                for c in range(col, n + 1):
                    m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


def _valid_stats(entry: Any) -> tuple[list[list[float]], list[float], int] | None:
    if not isinstance(entry, dict):
        return None
    p, q, n = entry.get("P"), entry.get("q"), entry.get("n", 0)
    if not isinstance(p, list) or not isinstance(q, list):
        return None
    try:
        pm = [[float(v) for v in row] for row in p]
        qv = [float(v) for v in q]
    except (TypeError, ValueError):
        return None
    if len(pm) != _N or any(len(row) != _N for row in pm) or len(qv) != _N:
        return None
    if not all(math.isfinite(v) for row in pm for v in row) or not all(math.isfinite(v) for v in qv):
        return None
    return pm, qv, int(n) if isinstance(n, int) and n >= 0 else 0


class Calibration:
    """The learned estimate for one service and model (the prior alone until a server reports usage)."""

    def __init__(self, service: str, model: str, profile: Profile | None = None,
                 entry: dict[str, Any] | None = None) -> None:
        self.service = service
        self.model = model
        self.profile = profile or profile_for(model, service)
        stats = _valid_stats(entry)
        self.probed = isinstance(entry, dict) and entry.get("probe") is True
        if stats is None:
            self.P: list[list[float]] = [[0.0] * _N for _ in range(_N)]
            self.q: list[float] = [0.0] * _N
            self.n = 0
        else:
            self.P, self.q, self.n = stats
        self.theta = self._fit()

    # -- estimates -----------------------------------------------------------------------------

    def count(self, text: str) -> int:
        return count_text(text, self.profile)

    def _parts(self, messages: Iterable[dict[str, Any]], tools: Iterable[Any] | None,
               exact: bool = False) -> tuple[int, int, bool]:
        return prompt_parts(messages, tools, exact_count if exact and self.profile is O200K else self.count)

    def _prompt_from(self, parts: tuple[int, int, bool]) -> int:
        text, n, system = parts
        a, b, c, r, _, _ = self.theta
        return max(0, round(a + b * n + (0.0 if system else c) + r * text))

    def prompt(self, messages: Iterable[dict[str, Any]], tools: Iterable[Any] | None = None) -> int:
        """Prompt tokens this server will count for ``messages`` (and ``tools``)."""
        return self._prompt_from(self._parts(list(messages), tools))

    def prompt_near(self, messages: list[dict[str, Any]], tools: Iterable[Any] | None, limit: int) -> int:
        """``prompt``, with OpenAI's exact table when the estimate is within CLOSE_CALL of ``limit``."""
        est = self.prompt(messages, tools)
        if self.profile is O200K and abs(est - limit) <= CLOSE_CALL * max(1, limit):
            return self._prompt_from(self._parts(messages, tools, exact=True))
        return est

    def completion(self, text: str) -> int:
        """Completion tokens this server will count for an answer of ``text``."""
        if not text:
            return 0
        _, _, _, _, e, r = self.theta
        return max(1, round(e + r * self.count(text)))

    # -- learning ------------------------------------------------------------------------------

    def _rows(self, parts: tuple[int, int, bool], prompt_tokens: int, answer: int,
              completion_tokens: int) -> list[tuple[list[float], float]]:
        text, n, system = parts
        rows = [([1.0, float(n), 0.0 if system else 1.0, float(text), 0.0, 0.0], float(prompt_tokens))]
        if completion_tokens > 0 and answer > 0:
            rows.append(([0.0, 0.0, 0.0, 0.0, 1.0, float(answer)], float(completion_tokens)))
        return rows

    @staticmethod
    def _accumulate(p: list[list[float]], q: list[float], rows: list[tuple[list[float], float]]) -> None:
        for i in range(_N):
            q[i] *= DECAY
            for j in range(_N):
                p[i][j] *= DECAY
        for x, y in rows:
            w = 1.0 / (0.05 * y + 2.0) ** 2  # the server's count is exact, lime's text estimate is not
            for i in range(_N):
                if x[i]:
                    q[i] += w * x[i] * y
                    for j in range(_N):
                        p[i][j] += w * x[i] * x[j]

    def _fit(self) -> tuple[float, ...]:
        a = [row[:] for row in self.P]
        b = self.q[:]
        for i in range(_N):
            prec = 1.0 / PRIOR_SD[i] ** 2
            a[i][i] += prec
            b[i] += prec * PRIOR[i]
        k = 1.0 / COUPLING_SD ** 2  # the pseudo-observation ratio_prompt - ratio_answer = 0
        a[3][3] += k
        a[5][5] += k
        a[3][5] -= k
        a[5][3] -= k
        x = _solve(a, b)
        if x is None or not all(math.isfinite(v) for v in x):
            return PRIOR
        return tuple(x)

    def observe(self, messages: Iterable[dict[str, Any]], tools: Iterable[Any] | None, answer: str,
                prompt_tokens: int, completion_tokens: int, *, probe: bool = False) -> None:
        """Learn from one response whose usage the server reported; persisted for later runs.
        ``probe``: the usage came from a non-streamed probe (the server streams none)."""
        if not (0 < prompt_tokens < 1 << 40) or not (0 <= completion_tokens < 1 << 40):
            return
        first_probe = probe and not self.probed  # stored even when settled: status says where it came from
        self.probed = self.probed or probe
        parts = self._parts(list(messages), tools)
        answer_count = self.count(answer)
        rows = self._rows(parts, prompt_tokens, answer_count, completion_tokens)
        _, _, _, _, e, r = self.theta
        settled = self.n >= SETTLED_AFTER and all(
            abs(pred - real) <= 0.03 * real + 2
            for pred, real in ((self._prompt_from(parts), prompt_tokens), (e + r * answer_count, completion_tokens)))
        self._accumulate(self.P, self.q, rows)
        self.n += 1
        self.theta = self._fit()
        if settled and not first_probe:
            return  # nothing new to store: spare the lock and two fsyncs on every request
        with contextlib.suppress(Exception):  # learning is best effort: never fail a request over it
            self._save(rows)

    def _save(self, rows: list[tuple[list[float], float]]) -> None:
        from lime import storage

        target = path()
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with storage.locked(target):
            models = _load()
            key = _key(self.service, self.model)
            stats = _valid_stats(models.get(key))
            if stats is None:
                p, q, n = [[0.0] * _N for _ in range(_N)], [0.0] * _N, 0
            else:
                p, q, n = stats
            self._accumulate(p, q, rows)  # onto what other processes stored meanwhile
            before = models.get(key)
            probed = self.probed or (isinstance(before, dict) and before.get("probe") is True)
            models[key] = {"profile": self.profile.name, "n": n + 1, "P": p, "q": q, "updated": time.time()}
            if probed:
                models[key]["probe"] = True
            if len(models) > MAX_MODELS:
                oldest = sorted(models, key=lambda k: models[k].get("updated", 0) if isinstance(models[k], dict) else 0)
                for k in oldest[:len(models) - MAX_MODELS]:
                    del models[k]
            storage.atomic_write_json(target, {"version": 1, "models": models})

    def describe(self) -> str:
        """One line for ``lime status``."""
        base = f"{self.profile.name} heuristic"
        if not self.n:
            return f"{base}; not yet calibrated by a server-reported usage"
        a, b, c, rp, e, rc = self.theta
        if self.probed:
            base += " (this server streams no usage: calibrated by non-streamed probes)"
        return (f"{base}, learned from {self.n} response{'s' if self.n != 1 else ''}: prompt ×{rp:.2f} "
                f"+ {a + c:.0f} per request ({a:.0f} with a system message) + {b:.1f} per message; "
                f"answer ×{rc:.2f} + {e:.0f}")


_cache: dict[str, Calibration] = {}


def for_model(service: str, model: str) -> Calibration:
    """The calibration for ``service`` / ``model``, loaded once per process."""
    key = _key(service, model)
    cal = _cache.get(str(path()) + "\n" + key)
    if cal is None:
        cal = _cache[str(path()) + "\n" + key] = Calibration(service, model, entry=_load().get(key))
    return cal
