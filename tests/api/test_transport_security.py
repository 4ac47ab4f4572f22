"""Behind TLS (INTERDIT_SECURE_COOKIES) cookies carry Secure and answers carry HSTS; in plain HTTP neither."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.fixtures import PASSWORD, Workspace, clock, options
from interdit.server.app import create_app
from interdit.server.context import ServerOptions


def _sign_in(client: TestClient) -> tuple[str, str]:
    form = client.get("/login")
    login_cookie = form.headers["set-cookie"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    r = client.post("/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": token.group(1),
                                    "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    session = next(c for c in r.headers.get_list("set-cookie") if c.startswith("interdit_session="))
    return login_cookie, session


@pytest.mark.parametrize("behind_tls", [True, False], ids=["tls", "plain-http"])
def test_secure_cookies_and_hsts_follow_the_setting(ws: Workspace, tmp_path: Path, behind_tls: bool) -> None:
    app = create_app(ws.settings, clock=clock, options=options(tmp_path, secure_cookies=behind_tls))
    base = "https://testserver" if behind_tls else "http://testserver"
    with TestClient(app, base_url=base) as client:
        login_cookie, session = _sign_in(client)
        for cookie in (login_cookie, session):
            flags = [p.strip().lower() for p in cookie.split(";")]
            assert ("secure" in flags) == behind_tls, cookie
            assert "httponly" in flags
        lang = client.get("/lang/fr", follow_redirects=False).headers["set-cookie"]
        assert ("secure" in [p.strip().lower() for p in lang.split(";")]) == behind_tls
        for path in ("/healthz", "/login", "/"):
            hsts = client.get(path).headers.get("strict-transport-security")
            assert (hsts == "max-age=31536000") if behind_tls else hsts is None, (path, hsts)


@pytest.mark.parametrize(("value", "secure"), [("1", True), ("true", True), ("yes", True), ("", False),
                                               ("0", False), ("no", False)])
def test_the_setting_is_read_from_the_environment(value: str, secure: bool) -> None:
    assert ServerOptions.from_env({"INTERDIT_SECURE_COOKIES": value}).secure_cookies is secure
