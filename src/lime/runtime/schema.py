"""Structured answers (``--output-schema``, ``response_format`` in the Python API): load a JSON
Schema, pull JSON out of an answer, check it, and ask the model once to repair a wrong answer.

The validator covers the subset of JSON Schema that structured-output schemas use in practice
(type, properties, required, additionalProperties, items, enum, const, anyOf/oneOf/allOf,
numeric and length bounds, pattern, local ``$ref`` to ``#/$defs`` or ``#/definitions``). Keywords
it does not know are ignored, as the specification allows for unknown keywords.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lime.errors import LimeError, UsageError

if TYPE_CHECKING:
    from lime.runtime.agent import Agent, TurnResult

_TYPES: dict[str, Any] = {
    "object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
}


def load(path_text: str) -> dict[str, Any]:
    from lime import jsonguard
    from lime.errors import ConfigError
    from lime.storage import read_config_text

    path = Path(path_text).expanduser()
    try:
        raw = read_config_text(path)
    except ConfigError as exc:
        raise UsageError(f"--output-schema: {exc}") from None
    if raw is None:
        raise UsageError(f"--output-schema {path_text}: no such file")
    try:
        schema = jsonguard.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--output-schema {path_text}: not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:
        raise UsageError(f"--output-schema {path_text}: not usable JSON ({exc})") from None
    if not isinstance(schema, dict):
        raise UsageError(f"--output-schema {path_text}: a JSON Schema must be a JSON object")
    return schema


def extract_json(text: str) -> Any:
    """The JSON value in an answer: the whole text, a fenced block, or the outermost {...}/[...]."""
    candidates = [text.strip()]
    fence = re.search(r"```(?:json)?\s*\n(.*?)```", text, re.DOTALL)
    if fence:
        candidates.append(fence.group(1).strip())
    for open_ch, close_ch in (("{", "}"), ("[", "]")):
        start, end = text.find(open_ch), text.rfind(close_ch)
        if 0 <= start < end:
            candidates.append(text[start:end + 1])
    from lime import jsonguard

    deep = False
    for c in candidates:
        try:
            return jsonguard.loads(c)  # the model's answer: 100,000 nested brackets are a ValueError, not a crash
        except jsonguard.JSONTooDeep:
            deep = True
        except ValueError:
            continue
    raise ValueError(f"the answer is not JSON{f' (nested more than {jsonguard.MAX_DEPTH} levels deep)' if deep else ''}")


def _type_ok(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    t = _TYPES.get(name)
    if t is None:
        return True
    if t is dict or t is list or t is str or t is type(None):
        return isinstance(value, t)
    return isinstance(value, bool) if t is bool else isinstance(value, t)


def errors(value: Any, schema: Any, root: dict[str, Any] | None = None, path: str = "$") -> list[str]:
    """Every violation, each naming the JSON path; empty when the value conforms."""
    if schema is True or schema is None:
        return []
    if schema is False:
        return [f"{path}: no value is allowed here"]
    if not isinstance(schema, dict):
        return []
    root = root if root is not None else schema
    out: list[str] = []
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        out += errors(value, target, root, path)
    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        if not any(_type_ok(value, n) for n in names):
            return [*out, f"{path}: expected {' or '.join(map(str, names))}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {json.dumps(value)} is not one of {json.dumps(schema['enum'])}")
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: must be {json.dumps(schema['const'])}")
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in value:
                out.append(f"{path}: missing required property {name!r}")
        for name, sub in props.items():
            if name in value:
                out += errors(value[name], sub, root, f"{path}.{name}")
        extra = [k for k in value if k not in props]
        addl = schema.get("additionalProperties", True)
        if addl is False and extra:
            out.append(f"{path}: unexpected properties {', '.join(map(repr, extra))}")
        elif isinstance(addl, dict):
            for k in extra:
                out += errors(value[k], addl, root, f"{path}.{k}")
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                out += errors(item, items, root, f"{path}[{i}]")
        if "minItems" in schema and len(value) < schema["minItems"]:
            out.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append(f"{path}: more than {schema['maxItems']} items")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            out.append(f"{path}: shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(f"{path}: longer than {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{path}: does not match pattern {schema['pattern']!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{path}: below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{path}: above the maximum {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            out.append(f"{path}: must be above {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            out.append(f"{path}: must be below {schema['exclusiveMaximum']}")
    for sub in schema.get("allOf") or []:
        out += errors(value, sub, root, path)
    if schema.get("anyOf") and not any(not errors(value, s, root, path) for s in schema["anyOf"]):
        out.append(f"{path}: matches none of the anyOf alternatives")
    if schema.get("oneOf"):
        n = sum(1 for s in schema["oneOf"] if not errors(value, s, root, path))
        if n != 1:
            out.append(f"{path}: matches {n} of the oneOf alternatives (exactly one required)")
    return out


def response_format(schema: dict[str, Any]) -> dict[str, Any]:
    name = str(schema.get("title") or "output")
    name = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "output"
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}


def instruction(schema: dict[str, Any]) -> str:
    return ("Reply with only a JSON value that conforms to this JSON Schema: no prose, no code fences.\n"
            + json.dumps(schema, ensure_ascii=False))


def schema_of(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """The JSON Schema inside a Chat Completions ``response_format`` (None for any other kind)."""
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    spec = response_format.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    return schema if isinstance(schema, dict) else None


def check(text: str, schema: dict[str, Any]) -> tuple[Any, list[str]]:
    """The answer's JSON value and what is wrong with it (nothing: it conforms)."""
    try:
        value = extract_json(text)
    except ValueError as exc:
        return None, [str(exc)]
    return value, errors(value, schema)


REPAIR_NOTICE = "the answer does not match the output schema; asking the model to repair it"


def repair_prompt(problems: list[str]) -> str:
    return ("Your previous reply does not conform to the required JSON Schema: " + "; ".join(problems[:8])
            + "\nReply again with only the corrected JSON value.")


def mismatch(problems: list[str], what: str) -> LimeError:
    return LimeError(f"the answer does not match {what} after one repair attempt: " + "; ".join(problems[:3]))


def run_structured(agent: Agent, prompt: str, schema: dict[str, Any]) -> tuple[Any, TurnResult]:
    """One agent turn whose final answer must conform to ``schema``: sent as ``response_format``
    where the model takes it, else as an instruction; a wrong answer is sent back once for repair."""
    if agent.route.capabilities.response_format:
        agent.settings.response_format = response_format(schema)
    else:
        prompt = f"{prompt}\n\n{instruction(schema)}"
    result = agent.run(prompt)
    if result.stopped is not None:
        return None, result
    value, problems = check(result.text, schema)
    if problems:
        agent.notify(REPAIR_NOTICE)
        result = agent.run(repair_prompt(problems))
        value, problems = check(result.text, schema)
        if problems:
            raise mismatch(problems, "--output-schema")
    return value, result
