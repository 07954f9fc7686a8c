"""The --output-schema validator on the subset structured outputs use."""

from __future__ import annotations

import pytest

from lime.runtime.schema import errors, extract_json

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
        "kind": {"enum": ["a", "b"]},
        "ref": {"$ref": "#/$defs/point"},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
    "$defs": {"point": {"type": "object", "required": ["x"], "properties": {"x": {"type": "number"}}}},
}


def test_valid_value() -> None:
    assert errors({"name": "n", "age": 3, "tags": ["x"], "kind": "a", "ref": {"x": 1.5}}, SCHEMA) == []


@pytest.mark.parametrize(("value", "fragment"), [
    ({"age": 3}, "missing required property 'name'"),
    ({"name": "n", "age": "3"}, "$.age: expected integer"),
    ({"name": "n", "age": -1}, "below the minimum"),
    ({"name": "n", "age": 1, "tags": [1]}, "$.tags[0]: expected string"),
    ({"name": "n", "age": 1, "kind": "c"}, "is not one of"),
    ({"name": "n", "age": 1, "zzz": 1}, "unexpected properties 'zzz'"),
    ({"name": "n", "age": 1, "ref": {}}, "$.ref: missing required property 'x'"),
    ({"name": "n", "age": True}, "expected integer"),
])
def test_violations_name_the_path(value: object, fragment: str) -> None:
    assert any(fragment in e for e in errors(value, SCHEMA)), errors(value, SCHEMA)


def test_extract_json_from_fences_and_prose() -> None:
    assert extract_json('{"a": 1}') == {"a": 1}
    assert extract_json('Here:\n```json\n{"a": 2}\n```\n') == {"a": 2}
    assert extract_json('Sure! {"a": 3} hope that helps') == {"a": 3}
    with pytest.raises(ValueError):
        extract_json("no json here")
