"""Directive versions: how amendments are read, and how a policy adopts a directive as it stood each day."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interdit.catalogue import parse_catalogue
from interdit.catalogue.load import DATA_FILE, data_path
from interdit.errors import CatalogueError
from interdit.model import Rule, VersionChange
from interdit.policy.load import directive_rules

BASE: dict[str, Any] = json.loads(data_path(DATA_FILE).read_text("utf-8"))
FAMILIES = ["tiktok", "wechat", "deepseek", "kaspersky", "telegram"]
SRC = [{"url": "https://example.org/a", "retrieved": "2026-12-07"}]


def _with_amendments(amendments: list[dict[str, Any]], families: list[str] | None = None) -> Any:
    data = copy.deepcopy(BASE)
    d = next(x for x in data["directives"] if x["id"] == "ca-tbs-2023-tiktok")
    d["families"] = ["tiktok"] if families is None else families
    d["amendments"] = amendments
    return data


def _amendment(since: str, change: str = "expanded", families: list[str] | None = None) -> dict[str, Any]:
    return {"since": since, "change": change, "families": families or [], "vendors": [], "note": "", "sources": SRC}


@pytest.mark.parametrize(("amendments", "message"), [
    ([_amendment("2023-01-01", families=["tiktok"])], "must come after 2023-02-28"),
    ([_amendment("2024-01-01", families=["tiktok"]), _amendment("2023-06-01", families=["tiktok"])],
     "must come after 2024-01-01"),
    ([_amendment("2024-01-01", "repealed")], "unknown change 'repealed'"),
    ([_amendment("2024-01-01", "lifted", ["tiktok"])], "a lifted directive prohibits nothing"),
    ([_amendment("2024-01-01", families=["no-such-app"])], "unknown families or vendors: no-such-app"),
])
def test_bad_amendments_name_the_directive(amendments: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(_with_amendments(amendments))
    assert "ca-tbs-2023-tiktok" in str(caught.value) and message in str(caught.value)


def test_as_of_gives_the_directive_as_it_stood() -> None:
    cat = parse_catalogue(_with_amendments([_amendment("2024-01-01", families=["tiktok", "wechat"]),
                                            _amendment("2025-01-01", "lifted")]))
    d = cat.directives["ca-tbs-2023-tiktok"]
    assert d.families == () and [v.change for v in d.versions] == [VersionChange.ORIGINAL, VersionChange.EXPANDED,
                                                                  VersionChange.LIFTED]
    assert d.as_of(date(2020, 1, 1)).families == ("tiktok",)  # before it began: the original text
    assert d.as_of(date(2023, 12, 31)).families == ("tiktok",)
    assert d.as_of(date(2024, 1, 1)).families == ("tiktok", "wechat")
    assert d.amended_on(date(2024, 6, 1)) == date(2024, 1, 1) and d.amended_on(date(2023, 6, 1)) is None
    assert d.lifted_on(date(2025, 1, 1)) == date(2025, 1, 1) and d.lifted_on(date(2024, 12, 31)) is None


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[str], list[dict[str, Any]]]:
    first = draw(st.lists(st.sampled_from(FAMILIES), unique=True, max_size=3))
    gaps = draw(st.lists(st.integers(min_value=1, max_value=400), max_size=4))
    day, out = date(2023, 2, 28), []
    for gap in gaps:
        day += timedelta(days=gap)
        fams = draw(st.lists(st.sampled_from(FAMILIES), unique=True, max_size=4))
        out.append(_amendment(day.isoformat(), "amended" if fams else "lifted", fams))
    return first, out


@settings(max_examples=60, deadline=None)
@given(histories(), st.integers(min_value=-30, max_value=1800), st.integers(min_value=-100, max_value=300))
def test_adopted_rules_prohibit_what_the_directive_prohibited_that_day(
        history: tuple[list[str], list[dict[str, Any]]], offset: int, adopted_late: int) -> None:
    first, amendments = history
    cat = parse_catalogue(_with_amendments(amendments, first))
    d = cat.directives["ca-tbs-2023-tiktok"]
    adopted = d.effective + timedelta(days=max(adopted_late, 0))
    rules = directive_rules(Rule(id="r", families=(), effective=adopted, directive=d.id), d, cat)
    assert len({r.id for r in rules}) == len(rules)  # ids are unique
    day = d.effective + timedelta(days=offset)
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    in_force = {f for r in rules if r.in_force(at) for f in r.families}
    expected = set(d.as_of(day).families) if day >= adopted else set()
    assert in_force == expected


def test_enforcement_stops_blocking_what_a_lifted_directive_prohibited() -> None:
    from interdit import pipeline
    from interdit.catalogue import load_catalogue
    from interdit.policy.load import parse_policy

    cat = load_catalogue()
    policy = parse_policy("organisation: Test\nadopt:\n  - directive: kr-pipc-2025-deepseek\n"
                          "  - directive: ca-tbs-2023-tiktok\n", cat)
    loaded = pipeline.LoadedPolicy(policy, cat, "test")
    during = pipeline.enforcement_request(loaded, now=datetime(2025, 3, 1, tzinfo=UTC))
    after = pipeline.enforcement_request(loaded, now=datetime(2025, 4, 28, tzinfo=UTC))
    assert "deepseek" in during.families and "deepseek.com" in during.domains
    assert "deepseek" not in after.families and "deepseek.com" not in after.domains
    assert "tiktok" in after.families  # the other adoption still asks for its blocks
