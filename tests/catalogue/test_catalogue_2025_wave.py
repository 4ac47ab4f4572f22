"""Directives added in 2026.12.2 (the 2025 DeepSeek wave, Georgia, South Australia, India's Ministry of Finance,
Québec's National Assembly): each value pinned to what its sources say, and evaluated as of a date where it
changed."""

from __future__ import annotations

from datetime import date

import pytest

from interdit.catalogue import directive_families, load_catalogue
from interdit.model import Catalogue, Ownership, VersionChange


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


@pytest.mark.parametrize(("directive", "announced", "families", "network"), [
    ("us-ks-2025-hb2313", date(2025, 4, 8), ("deepseek",), True),
    ("us-tn-2025-deepseek-manus", date(2025, 3, 6), ("deepseek", "manus"), True),
    ("us-sd-2025-deepseek-rednote", date(2025, 3, 4), ("deepseek", "rednote"), False),
    ("us-ia-2025-deepseek", date(2025, 2, 19), ("deepseek",), False),
    ("us-ar-2025-deepseek-rednote-lemon8", date(2025, 3, 6), ("deepseek", "rednote", "lemon8"), True),
    ("au-sa-2025-deepseek", date(2025, 2, 5), ("deepseek",), True),
    ("in-mof-2025-ai-tools", date(2025, 1, 29), ("deepseek",), False),
    ("ca-qc-assnat-2023-tiktok", date(2023, 2, 28), ("tiktok",), False),
])
def test_new_directives(cat: Catalogue, directive: str, announced: date, families: tuple[str, ...],
                        network: bool) -> None:
    d = cat.directives[directive]
    assert d.announced == announced
    assert d.families == families
    assert d.requires_network_block is network


def test_kansas_is_the_enacted_law_in_force_from_july(cat: Catalogue) -> None:
    ks = cat.directives["us-ks-2025-hb2313"]
    assert ks.effective == date(2025, 7, 1) and ks.confidence == "confirmed"
    assert "law enforcement" in ks.exceptions_allowed and "cybersecurity" in ks.exceptions_allowed
    assert any("kssos.org/publications/sessionlaws/2025/Chapter-84-HB-2313" in s.url for s in ks.sources)


def test_south_dakota_reaches_personal_devices_on_state_time(cat: Catalogue) -> None:
    sd = cat.directives["us-sd-2025-deepseek-rednote"]
    assert Ownership.PERSONAL in sd.ownership and "state time" in sd.device_scope


def test_georgia_was_expanded_in_february_2025(cat: Catalogue) -> None:
    ga = cat.directives["us-ga-2022-tiktok-wechat-telegram"]
    before = ga.as_of(date(2025, 2, 20))
    after = ga.as_of(date(2025, 2, 21))
    assert set(before.families) == {"tiktok", "wechat", "telegram"}
    assert {"rednote", "deepseek", "webull", "tiger-brokers", "moomoo", "lemon8"} <= set(after.families)
    assert [v.change for v in ga.versions] == [VersionChange.ORIGINAL, VersionChange.EXPANDED]
    # ByteDance as a vendor: every ByteDance family, from the first day
    assert "capcut" in directive_families(cat, before)


def test_india_finance_ministry_names_more_than_the_catalogue_lists(cat: Catalogue) -> None:
    d = cat.directives["in-mof-2025-ai-tools"]
    assert "ChatGPT" in d.rationale and "add the others in your policy" in d.rationale


def test_the_federation_wallonie_bruxelles_covers_personal_devices_on_its_networks(cat: Catalogue) -> None:
    d = cat.directives["be-fwb-2023-tiktok"]
    assert (d.announced, d.effective, d.families) == (date(2023, 3, 16), date(2023, 3, 16), ("tiktok",))
    assert Ownership.PERSONAL in d.ownership and d.interim


def test_belgium_and_texas_cite_the_issuers_text(cat: Catalogue) -> None:
    be = cat.directives["be-2023-tiktok"]
    assert any("circulaire-du-17-mars-2023" in s.url for s in be.sources)
    tx = cat.directives["us-tx-2022-prohibited-technologies"]
    expanded = tx.version_at(date(2026, 1, 26))
    assert expanded is not None and expanded.change is VersionChange.EXPANDED
    assert "einpresswire.com/article/886689832" in expanded.sources[0].url
