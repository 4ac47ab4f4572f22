"""The dashboard without a browser: sign-in, CSRF, roles, languages, and pages readable without JavaScript."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.fixtures import PASSWORD, Workspace


def _sign_in(client: TestClient, user: str, password: str = PASSWORD, lang: str = "en") -> TestClient:
    form = client.get("/login", headers={"accept-language": lang})
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    r = client.post("/login", data={"username": user, "password": password, "csrf_token": token.group(1),
                                    "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    return client


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m is not None
    return m.group(1)


def test_pages_need_a_session(client: TestClient) -> None:
    r = client.get("/violations?state=violation", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fviolations")


def test_wrong_password_and_forged_login(client: TestClient) -> None:
    form = client.get("/login")
    r = client.post("/login", data={"username": "admin", "password": "nope nope nope", "csrf_token": _csrf(form.text)})
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    r = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403


def test_overview_reads_without_javascript(client: TestClient, ws: Workspace) -> None:
    _sign_in(client, "auditor")
    r = client.get("/")
    assert r.status_code == 200
    s = client.get("/api/v1/summary").json()  # the session works on the API too
    assert f"{s['rate'] * 100:.1f}%" in r.text
    assert "<script" not in re.sub(r'<script src="/static/[^"]+" defer></script>', "", r.text), "no inline script"
    assert "Compliance over time" in r.text and "/TBS/Communications" in r.text
    assert 'href="/violations?state=violation"' in r.text


def test_overview_shows_each_inventory_source(client: TestClient, ws: Workspace) -> None:
    _sign_in(client, "auditor")
    s = client.get("/api/v1/summary").json()
    r = client.get("/", headers={"accept-language": "en"})
    assert "By inventory source" in r.text and "Not evaluable" in r.text and "Last inventory" in r.text
    section = r.text[r.text.index('id="h-src"'):]
    row = re.search(r'<tr><td><a href="/violations\?state=violation&amp;source=mdm">mdm</a></td>(.*?)</tr>', section,
                    re.S)
    assert row is not None, "the workspace's one source has a row"
    cells = re.findall(r'<td class="num">(?:<a [^>]*>)?([^<]*)', row.group(1))
    devices, in_scope, compliant, rate = cells[:4]
    assert int(devices.replace(",", "")) == s["devices_total"]
    assert int(in_scope.replace(",", "")) == s["devices_in_scope"]
    assert int(compliant.replace(",", "")) == s["compliant"] and rate == f"{s['rate'] * 100:.1f}%"
    assert 'href="/violations?state=not_evaluable&amp;source=mdm"' in section
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d UTC</td>", section), "when the source last reported"
    fr = client.get("/", headers={"accept-language": "fr"})
    assert "Par source d'inventaire" in fr.text.replace("&#39;", "'") and "Dernier inventaire" in fr.text


def test_french_by_browser_and_by_toggle(client: TestClient) -> None:
    _sign_in(client, "analyst")
    fr = client.get("/", headers={"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in fr.text and "Taux de conformité" in fr.text and "\u00a0%" in fr.text
    en = client.get("/", headers={"accept-language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert '<html lang="en">' in en.text and "Compliance rate" in en.text
    r = client.get("/lang/fr?next=/violations", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/violations"
    page = client.get("/violations", headers={"accept-language": "en"})
    assert "Infractions" in page.text, "the toggle's cookie wins over the browser"
    assert client.get("/lang/fr?next=//evil.example", follow_redirects=False).headers["location"] == "/"


def test_violations_filter_and_htmx_partial(client: TestClient) -> None:
    _sign_in(client, "analyst")
    full = client.get("/violations?state=violation&family=tiktok")
    assert full.status_code == 200 and "<form" in full.text
    devices = set(re.findall(r'href="/devices/mdm/([A-Z0-9]+)"', full.text))
    api = client.get("/api/v1/findings?state=violation&family=tiktok").json()["items"]
    assert devices == {f["device_id"] for f in api}
    part = client.get("/violations?state=violation&family=tiktok",
                      headers={"HX-Request": "true", "HX-Target": "results"})
    assert part.text.lstrip().startswith('<div id="results"') and "<html" not in part.text


def test_device_family_directive_and_catalogue_pages(client: TestClient) -> None:
    _sign_in(client, "auditor")
    f = client.get("/api/v1/findings?state=violation&limit=1").json()["items"][0]
    page = client.get(f"/devices/{f['source']}/{f['device_id']}")
    assert page.status_code == 200 and f["app"] in page.text and f["rule"] in page.text
    assert client.get("/devices/mdm/NOPE").status_code == 404
    assert "TikTok" in client.get("/families/tiktok").text
    assert "ca-tbs-2023-tiktok" in client.get("/catalogue").text
    d = client.get("/directives/ca-tbs-2023-tiktok")
    assert d.status_code == 200 and "2023-02-28" in d.text


def test_grant_needs_admin_and_csrf(client: TestClient, ws: Workspace) -> None:
    _sign_in(client, "analyst")
    page = client.get("/exceptions")
    assert "Grant an exception" not in page.text and "EXC-2023-001" in page.text
    r = client.post("/exceptions", data={"csrf_token": _csrf(page.text), "id": "X"})
    assert r.status_code == 403
    client.cookies.clear()
    _sign_in(client, "admin")
    page = client.get("/exceptions")
    assert "Grant an exception" in page.text
    body = {"id": "EXC-WEB", "families": "tiktok", "users": "alex.tremblay", "approver": "CIO", "reason": "test",
            "expires": "2023-05-01", "safeguards": "no sync, location off"}
    assert client.post("/exceptions", data={**body, "csrf_token": "wrong"}).status_code == 403
    assert "EXC-WEB" not in ws.policy.read_text()
    r = client.post("/exceptions", data={**body, "csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and "EXC-WEB" in ws.policy.read_text()
    listed = client.get(r.headers["location"])
    assert "Exception EXC-WEB granted." in listed.text and ">47<" in listed.text  # days to expiry
    bad = client.post("/exceptions", data={**body, "id": "EXC-WEB2", "expires": "soon",
                                           "csrf_token": _csrf(listed.text)})
    assert bad.status_code == 422 and "expires" in bad.text and 'value="EXC-WEB2"' in bad.text
    r = client.post("/exceptions/EXC-WEB/revoke", data={"csrf_token": _csrf(listed.text)}, follow_redirects=False)
    assert r.status_code == 303 and "EXC-WEB" not in ws.policy.read_text()


def test_audit_page_is_for_auditors(client: TestClient) -> None:
    _sign_in(client, "analyst")
    assert client.get("/audit").status_code == 403
    client.cookies.clear()
    _sign_in(client, "auditor")
    r = client.get("/audit")
    assert r.status_code == 200 and "is intact" in r.text and "session.sign-in" in r.text


def test_ingest_accounts_cannot_sign_in(client: TestClient) -> None:
    form = client.get("/login")
    r = client.post("/login", data={"username": "ingest", "password": PASSWORD, "csrf_token": _csrf(form.text)})
    assert r.status_code == 401


def test_sightings_and_apk_pages(client: TestClient) -> None:
    _sign_in(client, "auditor")
    assert "Network sightings" in client.get("/sightings").text
    page = client.get("/apks")
    assert page.status_code == 200 and 'type="file"' not in page.text, "auditors change nothing"
    client.cookies.clear()
    _sign_in(client, "analyst")
    page = client.get("/apks", headers={"accept-language": "fr"})
    assert ">Analyser<" in page.text and 'type="file"' in page.text
    files = [("files", ("junk.apk", b"not a zip at all", "application/octet-stream"))]
    refused = client.post("/apks", data={"csrf_token": "wrong"}, files=files)
    assert refused.status_code == 403
    done = client.post("/apks", data={"csrf_token": _csrf(page.text)}, files=files)
    assert done.status_code in (201, 422) and "<html" in done.text


def test_overview_gives_each_directive_its_rate_and_keeps_families_apart(client: TestClient, ws: Workspace) -> None:
    _sign_in(client, "auditor")
    s = client.get("/api/v1/summary").json()
    assert s["by_rule"], "the demo policy has rules in force"
    r = client.get("/", headers={"accept-language": "en"})
    assert "Compliance by directive" in r.text and "Devices in violation by app family" in r.text
    assert "Violations by app family" not in r.text
    section = r.text[r.text.index('id="h-dir"'):r.text.index('id="h-fam"')]
    for rule in s["by_rule"]:
        row = re.search(rf'<tr id="rule-{re.escape(rule["rule"])}">(.*?)</tr>', section, re.S)
        assert row is not None, rule["rule"]
        cells = re.findall(r'<td class="num">(?:<span [^>]*>)?([^<]*)', row.group(1))
        assert int(cells[0].replace(",", "")) == rule["in_scope"]
        assert int(cells[1].replace(",", "")) == rule["compliant"]
        assert cells[2] == f"{rule['rate'] * 100:.1f}%"
        assert int(cells[3].replace(",", "")) == rule["violations"]
        assert rule["deadline"] in row.group(1) and rule["effective"] in row.group(1)
        assert 0 <= rule["compliant"] <= rule["in_scope"] <= s["devices_in_scope"]
    tiktok = next(x for x in s["by_rule"] if x["directive"] == "ca-tbs-2023-tiktok")
    assert 'href="/directives/ca-tbs-2023-tiktok"' in section and tiktok["in_scope"] > 0
    assert any(x["directive"] is None for x in s["by_rule"]), "the organisation's own rule is listed too"
    assert 'id="directive-history"' in section, "two imports: the rate by directive over time"
    fam = r.text[r.text.index('id="h-fam"'):]
    assert 'href="/violations?state=violation&amp;family=tiktok"' in fam
    fr = client.get("/", headers={"accept-language": "fr"})
    assert "Conformité par directive" in fr.text and "Appareils en infraction par famille" in fr.text
