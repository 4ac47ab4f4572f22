"""The published JSON Schema: the file editors use is the schema the loader applies."""

from __future__ import annotations

import json
from importlib.resources import files

from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from interdit.policy import starter_policy
from interdit.policy.schema import allowed_keys, policy_json_schema

DEMO = files("interdit").joinpath("data/demo-policy.yaml").read_text("utf-8")


def _as_json(text: str) -> object:
    # what an editor sees: YAML dates as text
    return json.loads(json.dumps(YAML(typ="safe", pure=True).load(text), default=str))


def test_the_published_file_is_the_function() -> None:
    published = json.loads(files("interdit.policy").joinpath("policy.schema.json").read_text("utf-8"))
    assert published == policy_json_schema(), "regenerate src/interdit/policy/policy.schema.json (docs/policy.md)"


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(policy_json_schema())


def test_demo_and_starter_policies_are_valid_for_an_editor() -> None:
    validator = Draft202012Validator(policy_json_schema())
    for text in (DEMO, starter_policy()):
        assert not list(validator.iter_errors(_as_json(text)))


def test_an_editor_flags_a_typo_and_a_negative_grace() -> None:
    validator = Draft202012Validator(policy_json_schema())
    doc = _as_json("organisation: x\nadopt:\n  - directive: d\n    grace_day: 1\n"
                   "  - directive: e\n    grace_days: -1\n")
    kinds = sorted(e.validator for e in validator.iter_errors(doc))
    assert kinds == ["additionalProperties", "minimum"]


def test_callers_get_a_copy() -> None:
    schema = policy_json_schema()
    schema["properties"].clear()
    assert policy_json_schema()["properties"]


def test_allowed_keys() -> None:
    assert "grace_days" in allowed_keys("adoption") and "safeguards" in allowed_keys("exception")
    assert set(allowed_keys("policy")) >= {"organisation", "adopt", "rules", "exceptions", "stale_after_days"}
