"""The server under abuse: sessions end, sign-in slows down guessing, tokens keep to their sources, uploads and
parameters at their edges answer with problem details (never a 500), on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import PASSWORD, Workspace, build_workspace, clock, options
from interdit.server.app import create_app
from interdit.storage.accounts import AccountStore
from interdit.storage.audit import AuditLog

HEADER = b"device_id,platform,ownership,management,observed_at\n"
APPS = b"device_id,platform,identifier,name,version,managed,observed_at\n"


@pytest.fixture()
def own(db_url: str, tmp_path: Path) -> Iterator[tuple[Workspace, TestClient]]:
    """A small workspace of this test's own, on each database, and a client of its server."""
    ws = build_workspace(tmp_path / "ws", db_url, devices=12)
    app = create_app(ws.settings, clock=clock, options=options(tmp_path, max_upload_bytes=4 * 1024 * 1024))
    with TestClient(app, base_url="http://testserver") as c:
        yield ws, c


def sign_in(c: TestClient, username: str = "admin", password: str = PASSWORD) -> tuple[int, str]:
    """POST the sign-in form as a browser does; (status, the page's CSRF token once signed in)."""
    c.cookies.clear()
    form = c.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    r = c.post("/login", data={"username": username, "password": password, "csrf_token": token.group(1),
                               "next": "/"}, follow_redirects=False)
    if r.status_code != 303:
        return r.status_code, ""
    page = c.get("/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return r.status_code, csrf.group(1) if csrf else ""


def test_signing_out_ends_the_session_at_once(own: tuple[Workspace, TestClient]) -> None:
    ws, c = own
    status, csrf = sign_in(c)
    assert status == 303 and c.get("/api/v1/summary").status_code == 200
    stolen = c.cookies.get("interdit_session")
    assert stolen
    assert c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    c.cookies.clear()
    c.cookies.set("interdit_session", stolen)
    assert c.get("/api/v1/summary").status_code == 401
    assert c.get("/", follow_redirects=False).status_code == 303  # back to the sign-in page
    log = AuditLog(AccountStore(_engine(ws)).engine)
    assert [e.action for e in log.entries()][-2:] == ["session.sign-in", "session.sign-out"]


def test_a_new_password_and_disabling_end_every_session(own: tuple[Workspace, TestClient]) -> None:
    ws, c = own
    assert sign_in(c, "analyst")[0] == 303
    analyst = c.cookies.get("interdit_session")
    r = c.post("/api/v1/users/analyst/password", headers=bearer(ws, "admin"),
               json={"password": "another long password"})
    assert r.status_code == 204
    c.cookies.clear()
    c.cookies.set("interdit_session", analyst)
    assert c.get("/api/v1/summary").status_code == 401
    assert sign_in(c, "analyst", PASSWORD)[0] == 401
    assert sign_in(c, "analyst", "another long password")[0] == 303
    again = c.cookies.get("interdit_session")
    assert c.post("/api/v1/users/analyst/disable", headers=bearer(ws, "admin")).status_code == 200
    c.cookies.clear()
    c.cookies.set("interdit_session", again)
    assert c.get("/api/v1/summary").status_code == 401
    # the change and its entry went together
    actions = [e.action for e in AuditLog(_engine(ws)).entries()]
    assert "account.password" in actions and "account.disable" in actions


def test_sign_in_is_throttled_per_account_without_telling_whether_it_exists(
        ws: Workspace, tmp_path: Path) -> None:
    app = create_app(ws.settings, clock=clock, options=options(tmp_path))
    with TestClient(app, base_url="http://testserver") as c:
        for name in ("admin", "nobody-at-all"):
            codes = [sign_in(c, name, "wrong password!!")[0] for _ in range(6)]
            # five wrong guesses are answered; the next ones must wait, for a name that exists or not alike
            assert codes == [401] * 5 + [429], (name, codes)
            form = c.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert token is not None
            # while locked, even the right password is not checked
            r = c.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token.group(1)},
                       follow_redirects=False)
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
            assert "try again in" in r.text
        throttled = [e for e in AuditLog(_engine(ws)).entries(action="session.throttle")]
        assert {e.target for e in throttled} >= {"account:admin", "account:nobody-at-all"}


def test_a_token_writes_only_its_own_sources(own: tuple[Workspace, TestClient]) -> None:
    ws, c = own
    made = c.post("/api/v1/tokens", headers=bearer(ws, "admin"),
                  json={"username": "ingest", "name": "intune nightly", "sources": ["intune-nightly"]})
    assert made.status_code == 201 and made.json()["sources"] == ["intune-nightly"]
    nightly = {"Authorization": f"Bearer {made.json()['token']}"}
    files = [("files", ("devices.csv", HEADER)), ("files", ("apps.csv", APPS))]
    before = c.get("/api/v1/imports", headers=bearer(ws, "admin")).json()
    refused = c.post("/api/v1/imports?format=csv&source=mdm", headers=nightly, files=files)
    assert refused.status_code == 403 and "mdm" in refused.json()["detail"]
    assert c.get("/api/v1/imports", headers=bearer(ws, "admin")).json() == before  # nothing imported
    assert c.post("/api/v1/logs", headers=nightly, files=[("files", ("dns.log", b"x\n"))]).status_code == 403
    ok = c.post("/api/v1/imports?format=csv&source=intune-nightly", headers=nightly, files=files)
    assert ok.status_code == 201
    listed = {t["name"]: t["sources"] for t in c.get("/api/v1/tokens", headers=bearer(ws, "admin")).json()}
    assert listed["intune nightly"] == ["intune-nightly"] and listed["ingest token"] == ["*"]


def test_a_compression_bomb_is_refused_with_413(own: tuple[Workspace, TestClient]) -> None:
    ws, c = own
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as z:
        z.write(HEADER)
        for _ in range(12):
            z.write(b"\n" * (1 << 24))  # 192 MiB of blank lines in about 190 KB
    assert len(buf.getvalue()) < 400_000
    r = c.post("/api/v1/imports?format=csv&source=bomb", headers=bearer(ws, "ingest"),
               files=[("files", ("devices.csv.gz", buf.getvalue())), ("files", ("apps.csv", APPS))])
    assert r.status_code == 413 and "inflates" in r.json()["detail"]
    assert "interdit-upload" not in r.text


def test_upload_edges_answer_problem_details(own: tuple[Workspace, TestClient], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ws, c = own
    long = "a" * 300
    r = c.post("/api/v1/imports?format=csv&source=longname", headers=bearer(ws, "ingest"),
               files=[("files", (long + ".csv", HEADER)), ("files", (long + "b.csv", APPS))])
    assert r.status_code == 201
    bad = c.post("/api/v1/imports?format=csv&source=unreadable", headers=bearer(ws, "ingest"),
                 files=[("files", ("devices.csv", b"device_id,platform\nA,android\n"))])
    assert bad.status_code == 422
    runs = c.get("/api/v1/imports", headers=bearer(ws, "admin")).text
    assert "interdit-upload" not in bad.text and "interdit-upload" not in runs
    assert str(tmp_path) not in bad.text and str(tmp_path) not in runs

    import errno

    real_open = Path.open

    def full(self: Path, *args: object, **kwargs: object) -> object:
        handle = real_open(self, *args, **kwargs)  # type: ignore[call-overload]
        if "interdit-upload" in str(self):
            def refuse(data: object) -> int:
                raise OSError(errno.ENOSPC, "No space left on device")

            handle.write = refuse
        return handle

    monkeypatch.setattr(Path, "open", full)
    r = c.post("/api/v1/logs", headers=bearer(ws, "admin"), files=[("files", ("dns.log", b"x" * 5000))])
    assert r.status_code == 507 and r.headers["content-type"] == "application/problem+json"


def test_uploads_are_not_spooled_to_the_system_temp_folder(own: tuple[Workspace, TestClient],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ws, c = own
    import starlette.formparsers as fp

    written: list[int] = []
    real = fp.SpooledTemporaryFile

    class Watched(real):  # type: ignore[misc, valid-type]
        def write(self, data: bytes) -> int:
            written.append(len(data))
            return int(super().write(data))

    monkeypatch.setattr(fp, "SpooledTemporaryFile", Watched)
    r = c.post("/api/v1/imports?format=csv&source=streamed", headers=bearer(ws, "ingest"),
               files=[("files", ("devices.csv", HEADER + b"A,android,corporate,fully_managed,2023-03-01T00:00:00Z\n")),
                      ("files", ("apps.csv", APPS))])
    assert r.status_code == 201 and r.json()["accepted"] == 1
    assert written == []


@pytest.mark.parametrize("url", [
    "/api/v1/audit/verify?checkpoint=0:" + "0" * 64,
    "/api/v1/reports/json?as_of=0001-01-01T00:00:00Z",
    "/api/v1/reports/html?as_of=9999-12-31T23:59:59Z",
    "/api/v1/reports/csv?as_of=0001-01-01T00:00:00-14:00",
    "/api/v1/findings?since=0001-01-01T00:00:00Z",
    "/api/v1/sightings?since=0001-01-01",
])
def test_edge_parameters_answer_422(client: TestClient, ws: Workspace, url: str) -> None:
    r = client.get(url, headers=bearer(ws, "admin"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


def test_nul_in_parameters_and_sign_in_names_is_refused(own: tuple[Workspace, TestClient]) -> None:
    ws, c = own
    for url in ("/api/v1/audit?actor=a%00b", "/api/v1/sightings?family=t%00", "/api/v1/devices/s/A%00",
                "/api/v1/findings?device=x%00"):
        r = c.get(url, headers=bearer(ws, "admin"))
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", url
    assert sign_in(c, "admin\x00", PASSWORD)[0] == 401
    assert AccountStore(_engine(ws)).authenticate("admin\ud800", PASSWORD) is None
    assert c.get("/healthz").json()["database"] == "ok"


def test_device_ids_with_a_slash_are_reachable(own: tuple[Workspace, TestClient]) -> None:
    ws, c = own
    row = b"SITE/42,android,corporate,fully_managed,2023-03-01T00:00:00Z\n"
    made = c.post("/api/v1/imports?format=csv&source=site", headers=bearer(ws, "ingest"),
                  files=[("files", ("devices.csv", HEADER + row)), ("files", ("apps.csv", APPS))])
    assert made.status_code == 201
    for url in ("/api/v1/devices/site/SITE/42", "/api/v1/devices/site/SITE%2F42"):
        r = c.get(url, headers=bearer(ws, "analyst"))
        assert r.status_code == 200 and r.json()["device_id"] == "SITE/42", url
    assert c.get("/api/v1/devices/site/SITE/42/apps", headers=bearer(ws, "analyst")).status_code == 200


def test_exception_texts_yaml_would_misread_are_granted(client: TestClient, ws: Workspace) -> None:
    body = {"id": "EX-QUOTED", "families": ["TikTok"], "approver": "? the deputy", "reason": ": as agreed",
            "expires": "2024-01-31", "users": ["?anna@dept.example"], "safeguards": ["? confirm first", "- x"]}
    r = client.post("/api/v1/exceptions", headers=bearer(ws, "admin"), json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["users"] == ["?anna@dept.example"] and out["safeguards"] == ["? confirm first", "- x"]
    assert out["families"] == ["tiktok"]  # matched whatever its case
    assert client.delete("/api/v1/exceptions/EX-QUOTED", headers=bearer(ws, "admin")).status_code == 204


def test_the_exception_form_never_shows_the_policy_path(ws: Workspace, tmp_path: Path) -> None:
    app = create_app(ws.settings, clock=clock, options=options(tmp_path))
    with TestClient(app, base_url="http://testserver") as c:
        status, csrf = sign_in(c)
        assert status == 303
        r = c.post("/exceptions", data={"csrf_token": csrf, "id": "EX-1", "families": "TIKTOK", "approver": "a",
                                        "reason": "r", "expires": "2024-01-31", "users": "u@x"},
                   follow_redirects=False)
        assert r.status_code == 303
        again = c.post("/exceptions", data={"csrf_token": csrf, "id": "EX-1", "families": "tiktok",
                                            "approver": "a", "reason": "r", "expires": "2024-01-31", "users": "u"})
        assert again.status_code == 422 and "already exists" in again.text
        assert str(ws.policy) not in again.text and str(ws.root) not in again.text
        gone = c.post("/exceptions/NOPE/revoke", data={"csrf_token": csrf})
        assert gone.status_code == 422 and str(ws.root) not in gone.text
        assert c.post("/exceptions/EX-1/revoke", data={"csrf_token": csrf},
                      follow_redirects=False).status_code == 303


def _engine(ws: Workspace):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    from interdit import pipeline

    return pipeline.open_repository(ws.url).engine if ws.url.startswith("postgresql") else create_engine(ws.url)
