"""The device page's network sightings and the APK page's analysis report, each on a workspace of its own
(they store sightings and analyses, which the shared workspace's other tests must not see)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.fixtures import PASSWORD, Workspace, build_workspace, clock, options
from interdit import pipeline
from interdit.model import Sighting
from interdit.server.app import create_app
from interdit.storage.sightings import save_scan

APKS = Path(__file__).resolve().parents[3] / "shared" / "data" / "apk"
# a small real APK of the corpus (corpus.tsv): ByteDance's open SDK demo, which bundles ByteDance SDKs
DEMO_APK = APKS / "tt__opensdk-OpenSdkDemo.apk"
DEMO_IPA = APKS.parent / "ipa" / "mobsf__helloworld.ipa"


@pytest.fixture()
def own(tmp_path: Path) -> Iterator[tuple[Workspace, TestClient]]:
    ws = build_workspace(tmp_path / "ws", f"sqlite:///{tmp_path / 'own.db'}", devices=60)
    app = create_app(ws.settings, clock=clock, options=options(tmp_path, max_upload_bytes=8 * 1024 * 1024))
    with TestClient(app, base_url="http://testserver") as c:
        yield ws, c


def _sign_in(client: TestClient, user: str, lang: str = "en") -> str:
    form = client.get("/login", headers={"accept-language": lang})
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    r = client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token.group(1),
                                    "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/apks")
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m is not None
    return m.group(1)


def test_device_page_shows_its_network_sightings(own: tuple[Workspace, TestClient]) -> None:
    ws, client = own
    _sign_in(client, "auditor")
    device = client.get("/api/v1/devices?limit=1").json()
    item = (device["items"] if isinstance(device, dict) else device)[0]
    source, device_id = item["source"], item["device_id"]
    at = datetime(2023, 3, 14, 9, 30, tzinfo=UTC)
    seen = [Sighting("tiktok", date(2023, 3, 14), "10.1.2.3", at, at.replace(hour=17), 42, "bind9",
                     "api.tiktokv.com", source, device_id),
            Sighting("wechat", date(2023, 3, 13), "10.1.2.3", at.replace(day=13), at.replace(day=13), 3, "bind9",
                     "dns.weixin.qq.com", source, device_id, weak=True),
            Sighting("tiktok", date(2023, 3, 14), "10.9.9.9", at, at, 7, "bind9", "www.tiktok.com")]
    repo = pipeline.open_repository(ws.url)
    save_scan(repo.engine, head=b"a named log", path="/var/log/named.log", fmt="bind9", at=at, lines_read=52,
              matched=52, unmatched=0, rejected=0, sightings=seen)
    repo.engine.dispose()

    page = client.get(f"/devices/{source}/{device_id}", headers={"accept-language": "en"})
    assert page.status_code == 200
    section = page.text[page.text.index('id="h-seen"'):]
    section = section[:section.index("</section>")]
    rows = re.findall(r"<tr><td>(.*?)</tr>", section, re.S)
    assert len(rows) == 2, "the device's own sightings, not another address's"
    tiktok = next(r for r in rows if "/families/tiktok" in r)
    assert "2023-03-14" in tiktok and ">42<" in tiktok and "2023-03-14 09:30 UTC" in tiktok
    assert "2023-03-14 17:30 UTC" in tiktok and "api.tiktokv.com" in tiktok and "weak" not in tiktok
    wechat = next(r for r in rows if "/families/wechat" in r)
    assert "weak: only an answer named it" in wechat and ">3<" in wechat
    fr = client.get(f"/devices/{source}/{device_id}", headers={"accept-language": "fr"})
    assert "Détections réseau" in fr.text and "faible" in fr.text

    other = client.get("/api/v1/devices?limit=2").json()
    second = (other["items"] if isinstance(other, dict) else other)[1]
    quiet = client.get(f"/devices/{second['source']}/{second['device_id']}").text
    assert 'id="device-sightings"' not in quiet and 'id="h-seen"' in quiet, "a device never seen says so"


@pytest.mark.skipif(not DEMO_APK.is_file(), reason=f"the APK corpus is not present at {APKS}")
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_apk_upload_shows_the_analyzer_s_report(own: tuple[Workspace, TestClient], lang: str) -> None:
    _, client = own
    csrf = _sign_in(client, "analyst", lang)
    files = [("files", (DEMO_APK.name, DEMO_APK.read_bytes(), "application/vnd.android.package-archive"))]
    done = client.post("/apks", data={"csrf_token": csrf}, files=files, headers={"accept-language": lang})
    assert done.status_code == 201, done.text[:2000]
    html = done.text
    assert "<script" not in re.sub(r'<script src="/static/[^"]+" defer></script>', "", html), "no inline script"
    report = html[html.index('class="apk-report"'):]
    assert "com.bytedance.sdk.account" in report
    verdicts = {"en": ("Acceptable", "Needs review", "Unacceptable"), "fr": ("Acceptable", "À examiner",
                                                                             "Inacceptable")}[lang]
    verdict = re.search(r'<span class="verdict-(\w+)">([^<]+)</span>', report)
    assert verdict is not None and verdict.group(2) in verdicts
    rules = report[report.index("Why this verdict" if lang == "en" else "Pourquoi ce verdict"):]
    if verdict.group(1) != "acceptable":
        assert re.search(r'<td class="num">\d+</td>', rules), "each rule that fired, with its weight"
    groups = re.findall(r'<table class="permission-groups">.*?</table>', report, re.S)
    assert groups and re.search(r'<th scope="row">[^<]+</th>\s*<td><ul class="plain"><li><code>android\.permission\.',
                                groups[0]), "permissions by group"
    sdks = re.findall(r'<table class="sdks">(.*?)</table>', report, re.S)
    endpoints = re.findall(r'<table class="endpoints">(.*?)</table>', report, re.S)
    assert sdks or endpoints, "at least one SDK or endpoint"
    if sdks:
        assert "ByteDance" in sdks[0] and "CN" in sdks[0], "the SDK's vendor and its country"
    word = {"en": ("Permissions", "Network endpoints", "Weaknesses", "Certificates"),
            "fr": ("Autorisations", "Adresses réseau", "Faiblesses", "Certificats")}[lang]
    assert all(w in report for w in word)
    stored = client.get("/apks").text
    assert "com.bytedance.sdk.account" in stored and 'class="apk-report"' not in stored, "the list, not the report"


@pytest.mark.skipif(not DEMO_IPA.is_file(), reason=f"the iOS corpus is not present at {DEMO_IPA.parent}")
def test_the_app_page_takes_an_iphone_app_too(own: tuple[Workspace, TestClient]) -> None:
    _, client = own
    csrf = _sign_in(client, "analyst", "en")
    page = client.get("/apks").text
    assert ".ipa" in page and "iPhone" in page, "the form says it takes iPhone apps"
    files = [("files", (DEMO_IPA.name, DEMO_IPA.read_bytes(), "application/octet-stream"))]
    done = client.post("/apks", data={"csrf_token": csrf}, files=files)
    assert done.status_code == 201, done.text[:2000]
    report = done.text[done.text.index('class="apk-report"'):]
    assert "com.kthcorp.helloworld" in report and "verdict-" in report, "the bundle id and a verdict"
    stored = client.get("/apks").text
    assert DEMO_IPA.name in stored, "the stored analyses list the iPhone app"
