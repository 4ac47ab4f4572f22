"""The shipped YAML files are parsed once per content and then read from a JSON copy in the user's cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from interdit.analysis.score import DEFAULT_RULES, load_rules
from interdit.analysis.yaml_cache import cache_dir, load_yaml


@pytest.fixture(autouse=True)
def _cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_second_read_comes_from_the_cache_and_equals_the_parse() -> None:
    text = "a: 1\nb: [x, 2.5, true, null]\nc: {d: '007'}\n"
    first = load_yaml(text)
    assert len(list(cache_dir().glob("*.json"))) == 1
    assert load_yaml(text) == first == {"a": 1, "b": ["x", 2.5, True, None], "c": {"d": "007"}}


def test_a_damaged_copy_is_parsed_again() -> None:
    text = "rules: [1, 2]\n"
    load_yaml(text)
    (copy,) = cache_dir().glob("*.json")
    copy.write_text('{"rules": [1', "utf-8")
    assert load_yaml(text) == {"rules": [1, 2]}


def test_values_json_cannot_hold_are_not_cached() -> None:
    data = load_yaml("when: 2026-12-07\n")
    assert str(data["when"]) == "2026-12-07"
    assert list(cache_dir().glob("*.json")) == []


def test_not_yaml_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="mapping values"):
        load_yaml("a: b: c\n")


def test_score_rules_the_same_from_the_cache() -> None:
    parsed, cached = load_rules(DEFAULT_RULES), load_rules(DEFAULT_RULES)
    assert list(cache_dir().glob("*.json"))
    assert cached == parsed
