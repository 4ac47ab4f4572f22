"""The overview as of a date: the picker, the banner, the stale-fleet offer, and bad dates (EN/FR)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import Workspace, options
from interdit.server.app import create_app
from web.test_pages import _sign_in

LATER = datetime(2026, 12, 7, 12, tzinfo=UTC)  # long after the demo fleet's last import (2023-03-15)


@pytest.fixture()
def later(ws: Workspace, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(ws.settings, clock=lambda: LATER, options=options(tmp_path))
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def _rate(html: str) -> str:
    m = re.search(r'<p class="rate" id="rate">([^<]+)</p>', html)
    assert m is not None
    return m.group(1)


def test_a_stale_fleet_is_said_and_the_latest_import_is_one_click_away(later: TestClient, ws: Workspace) -> None:
    page = _sign_in(later, "analyst").get("/").text
    assert _rate(page) == "0.0%", "every device is stale years later"
    offer = re.search(r'<a href="(/\?as_of=[^"]+)" id="as-of-latest">', page)
    assert 'id="stale-fleet"' in page and offer is not None and offer.group(1) == "/?as_of=2023-03-15"
    then = later.get(offer.group(1))
    assert then.status_code == 200
    assert 'id="as-of-banner"' in then.text and "as of 2023-03-15" in then.text
    assert 'id="stale-fleet"' not in then.text and 'value="2023-03-15"' in then.text
    report = later.get("/api/v1/reports/json", params={"as_of": "2023-03-15"}, headers=bearer(ws, "analyst")).json()
    assert report["summary"]["rate"] > 0
    assert _rate(then.text) == f"{report['summary']['rate'] * 100:.1f}%", "the page and the report agree"


def test_the_picker_evaluates_an_earlier_day_and_its_trend_stops_there(later: TestClient) -> None:
    _sign_in(later, "analyst")
    first = later.get("/", params={"as_of": "2023-03-01"}).text
    last = later.get("/", params={"as_of": "2023-03-15"}).text
    assert "as of 2023-03-01" in first and "show today&#39;s findings" in first
    over_time = first.split('id="h-time"')[1].split("</section>")[0]
    assert over_time.count("<tr><td>") == 1, "as of the first import's day, the trend is that one day"
    assert last.split('id="h-time"')[1].split("</section>")[0].count("<tr><td>") == 2


def test_a_fleet_seen_recently_has_no_stale_notice(client: TestClient) -> None:
    page = _sign_in(client, "analyst").get("/").text
    assert 'id="as-of-form"' in page and 'id="stale-fleet"' not in page and 'id="as-of-banner"' not in page


def test_french_words(later: TestClient) -> None:
    later.cookies.set("interdit_lang", "fr")
    page = _sign_in(later, "analyst", lang="fr").get("/", headers={"accept-language": "fr"}).text
    assert "Le dernier inventaire a été importé le 2023-03-15" in page and "Voir les chiffres au 2023-03-15" in page
    then = later.get("/?as_of=2023-03-15", headers={"accept-language": "fr"}).text
    assert "au 2023-03-15\u00a0: le parc" in then and "Revenir à aujourd&#39;hui" in then


@pytest.mark.parametrize("as_of", ["2023-02-30", "tomorrow", "2023-03-01T12:00:00", "0001-01-01", "9999-12-31"])
def test_a_bad_date_is_a_422_page_with_the_fix(later: TestClient, as_of: str) -> None:
    _sign_in(later, "analyst")
    r = later.get("/", params={"as_of": as_of})
    assert r.status_code == 422 and as_of.replace("'", "&#39;") in r.text, "the page names the date it refused"
    assert "2023-03-01" in r.text or "1900 and 9000" in r.text, "and says how to write it"


def test_the_trend_chart_keeps_a_fixed_width_and_few_date_labels(later: TestClient) -> None:
    _sign_in(later, "analyst")
    page = later.get("/", params={"as_of": "2023-03-15"}).text
    svg = page.split('id="trend-chart"')[1].split("</svg>")[0]
    assert 'viewBox="0 0 620 150"' in svg and svg.count("<rect") == 2
    assert re.findall(r'class="axis tick">([^<]+)<', svg) == ["2023-03-01", "2023-03-15"]
