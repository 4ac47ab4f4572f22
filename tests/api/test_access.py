"""Every route refuses the roles it should: a table of (method, path, allowed roles), checked for each role.

The table must list every route the app has (a test fails when a new route is not added here); so must the
dashboard's two lists: the pages that send an anonymous visitor to sign in, and the few that answer anyone.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import ROLES, Workspace

READ = {"admin", "analyst", "auditor"}
ADMIN = {"admin"}
ANALYST = {"admin", "analyst"}
UPLOAD = {"admin", "analyst", "ingest"}
AUDIT = {"admin", "auditor"}

# (method, route template, concrete path, allowed roles)
TABLE: list[tuple[str, str, str, set[str]]] = [
    ("GET", "/metrics", "/metrics", READ),
    ("GET", "/api/v1/families", "/api/v1/families", READ),
    ("GET", "/api/v1/families/{family_id}", "/api/v1/families/tiktok", READ),
    ("GET", "/api/v1/directives", "/api/v1/directives", READ),
    ("GET", "/api/v1/directives/{directive_id}", "/api/v1/directives/ca-tbs-2023-tiktok", READ),
    ("GET", "/api/v1/catalogue/search", "/api/v1/catalogue/search?q=tiktok", READ),
    ("GET", "/api/v1/devices", "/api/v1/devices?limit=2", READ),
    ("GET", "/api/v1/devices/{source}/{device_id}", "/api/v1/devices/mdm/A0000001", READ),
    ("GET", "/api/v1/devices/{source}/{device_id}/apps", "/api/v1/devices/mdm/A0000001/apps", READ),
    ("GET", "/api/v1/findings", "/api/v1/findings?limit=2", READ),
    ("GET", "/api/v1/findings/{finding_id}", "/api/v1/findings/F-0000000000000000", READ),
    ("GET", "/api/v1/summary", "/api/v1/summary", READ),
    ("GET", "/api/v1/summary/history", "/api/v1/summary/history", READ),
    ("GET", "/api/v1/deadlines", "/api/v1/deadlines", READ),
    ("POST", "/api/v1/evaluations", "/api/v1/evaluations", ANALYST),
    ("GET", "/api/v1/policy", "/api/v1/policy", READ),
    ("PUT", "/api/v1/policy", "/api/v1/policy?dry_run=true", ADMIN),
    ("POST", "/api/v1/policy/check", "/api/v1/policy/check", READ),
    ("GET", "/api/v1/exceptions", "/api/v1/exceptions", READ),
    ("POST", "/api/v1/exceptions", "/api/v1/exceptions", ADMIN),
    ("DELETE", "/api/v1/exceptions/{exception_id}", "/api/v1/exceptions/NO-SUCH", ADMIN),
    ("GET", "/api/v1/imports/formats", "/api/v1/imports/formats", READ),
    ("POST", "/api/v1/imports", "/api/v1/imports?format=csv&source=mdm", UPLOAD),
    ("GET", "/api/v1/imports", "/api/v1/imports", READ),
    ("GET", "/api/v1/imports/{run_id}", "/api/v1/imports/1", READ),
    ("GET", "/api/v1/sources", "/api/v1/sources", READ),
    ("POST", "/api/v1/sources/{name}/sync", "/api/v1/sources/nope/sync", ADMIN),
    ("POST", "/api/v1/analyses", "/api/v1/analyses", ANALYST),
    ("GET", "/api/v1/analyses", "/api/v1/analyses", READ),
    ("GET", "/api/v1/analyses/jobs/{job_id}", "/api/v1/analyses/jobs/" + "0" * 32, READ),
    ("GET", "/api/v1/analyses/{sha256}", "/api/v1/analyses/" + "0" * 64, READ),
    ("POST", "/api/v1/logs", "/api/v1/logs", UPLOAD),
    ("GET", "/api/v1/sightings", "/api/v1/sightings", READ),
    ("GET", "/api/v1/enforcement/targets", "/api/v1/enforcement/targets", READ),
    ("POST", "/api/v1/enforcement/{target}", "/api/v1/enforcement/nope", ADMIN),
    ("GET", "/api/v1/reports/formats", "/api/v1/reports/formats", READ),
    ("GET", "/api/v1/reports/{fmt}", "/api/v1/reports/json", READ),
    ("GET", "/api/v1/users", "/api/v1/users", ADMIN),
    ("POST", "/api/v1/users", "/api/v1/users", ADMIN),
    ("POST", "/api/v1/users/{username}/disable", "/api/v1/users/nobody/disable", ADMIN),
    ("POST", "/api/v1/users/{username}/password", "/api/v1/users/nobody/password", ADMIN),
    ("GET", "/api/v1/tokens", "/api/v1/tokens", ADMIN),
    ("POST", "/api/v1/tokens", "/api/v1/tokens", ADMIN),
    ("DELETE", "/api/v1/tokens/{token_id}", "/api/v1/tokens/000000000000", ADMIN),
    ("GET", "/api/v1/audit", "/api/v1/audit", AUDIT),
    ("GET", "/api/v1/audit/verify", "/api/v1/audit/verify", AUDIT),
    ("GET", "/api/v1/audit/export", "/api/v1/audit/export", AUDIT),
]
OPEN = {("GET", "/healthz")}

# the dashboard: (method, route template, concrete path); without a session each sends to /login
PAGES: list[tuple[str, str, str]] = [
    ("GET", "/", "/"),
    ("GET", "/violations", "/violations"),
    ("GET", "/devices/{source}/{device_id:path}", "/devices/mdm/A0000001"),
    ("GET", "/catalogue", "/catalogue"),
    ("GET", "/families/{family_id}", "/families/tiktok"),
    ("GET", "/directives/{directive_id}", "/directives/ca-tbs-2023-tiktok"),
    ("GET", "/exceptions", "/exceptions"),
    ("POST", "/exceptions", "/exceptions"),
    ("POST", "/exceptions/{exception_id}/revoke", "/exceptions/NO-SUCH/revoke"),
    ("GET", "/audit", "/audit"),
    ("GET", "/sightings", "/sightings"),
    ("GET", "/apks", "/apks"),
    ("POST", "/apks", "/apks"),
]
# ...and those that answer without one: (method, template, concrete path, status for an anonymous visitor)
PUBLIC_PAGES: list[tuple[str, str, str, int]] = [
    ("GET", "/login", "/login", 200),
    ("POST", "/login", "/login", 403),  # without the sign-in form's CSRF token
    ("GET", "/login/oidc", "/login/oidc", 404),  # no identity provider configured here
    ("GET", "/login/oidc/callback", "/login/oidc/callback?code=x&state=y", 404),
    ("POST", "/logout", "/logout", 303),
    ("GET", "/lang/{code}", "/lang/fr", 303),
]


def test_the_table_lists_every_api_route(client: TestClient, ws: Workspace) -> None:
    spec = client.get("/openapi.json", headers=bearer(ws, "auditor")).json()
    routes = {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops}
    listed = {(m, template) for m, template, _, _ in TABLE} | OPEN
    assert routes - listed == set(), "add these routes to TABLE with the roles that may use them"
    assert listed - routes == set(), "these rows name routes the app does not have"


@pytest.mark.parametrize(("method", "template", "path", "allowed"), TABLE, ids=[f"{m} {t}" for m, t, _, _ in TABLE])
def test_each_role_is_let_in_or_refused(client: TestClient, ws: Workspace, method: str, template: str, path: str,
                                         allowed: set[str]) -> None:
    anonymous = client.request(method, path, json={})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    for role in ROLES:
        # an empty JSON body: allowed roles get past authorisation and fail validation (422) or succeed
        r = client.request(method, path, headers=bearer(ws, role), json={})
        if role in allowed:
            assert r.status_code not in (401, 403), f"{role} refused on {method} {path}: {r.text}"
        else:
            assert r.status_code == 403, f"{role} let in on {method} {path}: {r.status_code}"
            assert r.json()["status"] == 403


def test_health_needs_no_sign_in(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["database"] == "ok"


def test_bad_and_revoked_tokens_are_refused(client: TestClient, ws: Workspace) -> None:
    assert client.get("/api/v1/summary", headers={"Authorization": "Bearer idt_nope"}).status_code == 401
    assert client.get("/api/v1/summary", headers={"Authorization": "Basic abc"}).status_code == 401
    made = client.post("/api/v1/tokens", headers=bearer(ws, "admin"), json={"username": "auditor", "name": "short"})
    assert made.status_code == 201
    secret, token_id = made.json()["token"], made.json()["id"]
    assert client.get("/api/v1/summary", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=bearer(ws, "admin")).status_code == 204
    assert client.get("/api/v1/summary", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    listed = client.get("/api/v1/tokens", headers=bearer(ws, "admin")).json()
    assert all("token" not in t for t in listed), "token secrets are never listed"


def _dashboard_routes() -> set[tuple[str, str]]:
    from fastapi.routing import APIRoute

    from interdit.server.web.routes import router

    return {(m, r.path) for r in router.routes if isinstance(r, APIRoute) for m in r.methods}


def test_the_dashboard_lists_every_page() -> None:
    listed = {(m, t) for m, t, _ in PAGES} | {(m, t) for m, t, _, _ in PUBLIC_PAGES}
    routes = _dashboard_routes()
    assert routes - listed == set(), "add these dashboard routes to PAGES, or to PUBLIC_PAGES if anyone may use them"
    assert listed - routes == set(), "these rows name dashboard routes the app does not have"


@pytest.mark.parametrize(("method", "template", "path"), PAGES, ids=[f"{m} {t}" for m, t, _ in PAGES])
def test_dashboard_pages_send_anonymous_visitors_to_sign_in(client: TestClient, method: str, template: str,
                                                            path: str) -> None:
    r = client.request(method, path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), (method, path, r.status_code)


@pytest.mark.parametrize(("method", "template", "path", "status"), PUBLIC_PAGES,
                         ids=[f"{m} {t}" for m, t, _, _ in PUBLIC_PAGES])
def test_public_pages_answer_without_a_session(client: TestClient, method: str, template: str, path: str,
                                               status: int) -> None:
    r = client.request(method, path, follow_redirects=False)
    assert r.status_code == status, (method, path, r.status_code)
    assert not r.headers.get("location", "").startswith("/login?next="), "a public page asks nobody to sign in"


# -- the dashboard's actions, signed in with each role that may sign in (ingest accounts may not) --------

PEOPLE = ("admin", "analyst", "auditor")
EXCEPTION = {"id": "EXC-ACCESS-1", "families": "tiktok", "approver": "CIO", "reason": "access test",
             "expires": "2023-06-30", "devices": "mdm:A0000001"}
# (method, concrete path, form, roles let in); a refused role gets 403 and changes nothing
DASHBOARD: list[tuple[str, str, dict[str, str], set[str]]] = [
    ("GET", "/", {}, READ),
    ("GET", "/violations", {}, READ),
    ("GET", "/catalogue", {}, READ),
    ("GET", "/exceptions", {}, READ),
    ("GET", "/sightings", {}, READ),
    ("GET", "/apks", {}, READ),
    ("GET", "/audit", {}, AUDIT),
    ("POST", "/exceptions", EXCEPTION, ADMIN),
    ("POST", "/exceptions/EXC-ACCESS-0/revoke", {}, ADMIN),
    ("POST", "/apks", {}, ANALYST),
]


def _session(client: TestClient, user: str) -> str:
    """Sign `user` in through the form; returns the session's CSRF token."""
    import re

    from api.fixtures import PASSWORD

    client.cookies.clear()
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    r = client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token.group(1),
                                    "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/exceptions")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(("method", "path", "form", "allowed"), DASHBOARD, ids=[f"{m} {p}" for m, p, _, _ in DASHBOARD])
@pytest.mark.parametrize("role", PEOPLE)
def test_each_role_may_or_may_not_use_the_dashboard(client: TestClient, ws: Workspace, role: str, method: str,
                                                   path: str, form: dict[str, str], allowed: set[str]) -> None:
    if path.endswith("/revoke"):  # an exception that exists, so that letting in is seen as a revocation
        made = client.post("/api/v1/exceptions", headers=bearer(ws, "admin"),
                           json={**EXCEPTION, "id": "EXC-ACCESS-0", "families": ["tiktok"],
                                 "devices": ["mdm:A0000002"]})
        assert made.status_code == 201, made.text
    before = ws.policy.read_text("utf-8")
    csrf = _session(client, role)
    files = [("files", ("x.apk", b"not an apk", "application/octet-stream"))] if path == "/apks" else None
    r = client.request(method, path, data={**form, "csrf_token": csrf} if method == "POST" else None, files=files,
                       follow_redirects=False)
    if role in allowed:
        assert r.status_code not in (401, 403), f"{role} refused on {method} {path}: {r.status_code}"
        assert not r.headers.get("location", "").startswith("/login"), f"{role} sent to sign in on {path}"
    else:
        assert r.status_code == 403, f"{role} let in on {method} {path}: {r.status_code}"
        assert ws.policy.read_text("utf-8") == before, "a refused action changed the policy"
    if path.endswith("/revoke"):
        assert ("EXC-ACCESS-0" in ws.policy.read_text("utf-8")) == (role not in allowed)
    if path == "/exceptions" and method == "POST":
        assert ("EXC-ACCESS-1" in ws.policy.read_text("utf-8")) == (role in allowed)
