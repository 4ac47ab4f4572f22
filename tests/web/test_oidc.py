"""Sign-in through OpenID Connect, end to end: interdit's real server against a real provider, both on 127.0.0.1.

A browser is played by httpx following redirects with its cookies kept: interdit → the provider's /authorize →
interdit's callback → the page asked for. Each refusal is a provider (or an attacker) doing one thing wrong.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import OctKey, RSAKey

from api.fixtures import Workspace, build_workspace, clock, options, running_server
from interdit.errors import ConfigError
from interdit.server.app import create_app
from interdit.server.oidc import OidcConfig, parse_role_map
from interdit.storage.accounts import Role
from web.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider

ROLE_MAP = ("interdit-admins=admin", "interdit-analysts=analyst", "/ministry/audit=auditor")


def _config(provider: Provider, **extra: Any) -> OidcConfig:
    values: dict[str, Any] = {"issuer": provider.base, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                              "role_map": parse_role_map(ROLE_MAP), "provider_name": "Test IdP"}
    values.update(extra)
    return OidcConfig(**values)


@contextmanager
def _interdit(ws: Workspace, provider: Provider, **extra: Any) -> Iterator[str]:
    with running_server(ws, oidc=_config(provider, **extra)) as base:
        provider.redirect_uris.add(base + "/login/oidc/callback")
        yield base


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("oidc")
    return build_workspace(root, f"sqlite:///{root / 'interdit.db'}", devices=40)


@pytest.fixture(scope="module")
def idp() -> Iterator[Provider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def base(ws: Workspace, idp: Provider) -> Iterator[str]:
    with _interdit(ws, idp) as url:
        yield url


@pytest.fixture(autouse=True)
def honest_provider(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "idp" in request.fixturenames:
        request.getfixturevalue("idp").tamper.clear()


def _person(name: str, *groups: str, **claims: Any) -> dict[str, Any]:
    return {"sub": f"sub-{name}", "preferred_username": name, "email": f"{name}@example.gc.ca",
            "groups": list(groups), **claims}


def _sign_in(base: str, idp: Provider, user: dict[str, Any], *, next_url: str = "/violations",
             lang: str = "en") -> tuple[httpx.Response, httpx.Client]:
    idp.user = user
    browser = httpx.Client(base_url=base, follow_redirects=True, headers={"accept-language": lang}, timeout=20)
    return browser.get("/login/oidc", params={"next": next_url}), browser


def _to_callback(base: str, idp: Provider, user: dict[str, Any]) -> tuple[httpx.Client, str]:
    """Start a sign-in and stop at the callback URL the provider sends the browser back to."""
    idp.user = user
    browser = httpx.Client(base_url=base, follow_redirects=False, timeout=20)
    start = browser.get("/login/oidc", params={"next": "/"})
    assert start.status_code == 303 and start.headers["location"].startswith(idp.base + "/authorize?")
    back = browser.get(start.headers["location"])
    assert back.status_code == 302 and back.headers["location"].startswith(base + "/login/oidc/callback?")
    return browser, back.headers["location"]


def _audit(base: str, ws: Workspace, **params: str) -> list[dict[str, Any]]:
    r = httpx.get(base + "/api/v1/audit", params={"limit": "1000", **params},
                  headers={"Authorization": f"Bearer {ws.tokens['auditor']}"})
    assert r.status_code == 200, r.text
    return list(r.json())


def _users(base: str, ws: Workspace) -> dict[str, dict[str, Any]]:
    r = httpx.get(base + "/api/v1/users", headers={"Authorization": f"Bearer {ws.tokens['admin']}"})
    return {u["username"]: u for u in r.json()}


def _refused(r: httpx.Response, browser: httpx.Client, status: int, words: str) -> None:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert words in r.text.replace("&#39;", "'"), r.text[:2000]
    assert "interdit_session" not in browser.cookies and "interdit_session" not in r.headers.get("set-cookie", "")
    assert 'interdit_oidc_flow=""' in r.headers.get("set-cookie", ""), "the sign-in under way is forgotten"


# -- signing in ------------------------------------------------------------------------------------------


def test_a_person_signs_in_and_gets_an_account_with_the_mapped_role(base: str, idp: Provider,
                                                                      ws: Workspace) -> None:
    r, browser = _sign_in(base, idp, _person("amelie.gagnon", "staff", "interdit-analysts"))
    with closing(browser):
        assert r.status_code == 200, r.text[:500]
        assert str(r.url) == base + "/violations" and "amelie.gagnon" in r.text and "(analyst)" in r.text
        hops = [str(h.url) for h in r.history]
        assert hops[0].startswith(base + "/login/oidc?") and hops[1].startswith(idp.base + "/authorize?")
        assert hops[2].startswith(base + "/login/oidc/callback?code=")
        # what the browser took to the provider: PKCE S256, state and nonce, the registered callback
        asked = parse_qs(urlsplit(hops[1]).query)
        assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
        assert len(asked["state"][0]) >= 32 and len(asked["nonce"][0]) >= 32
        assert asked["redirect_uri"] == [base + "/login/oidc/callback"] and "openid" in asked["scope"][0].split()
        assert "code_verifier" not in hops[1]
        # the same session cookie as a password sign-in: HttpOnly, SameSite=Lax, good on the API too
        cookie = r.history[2].headers["set-cookie"]
        assert "interdit_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert browser.get("/api/v1/summary").status_code == 200
        assert browser.get("/audit").status_code == 403, "an analyst does not read the audit trail"
    user = _users(base, ws)["amelie.gagnon"]
    assert user["role"] == "analyst" and user["oidc"] and not user["has_password"] and not user["disabled"]
    entries = _audit(base, ws, actor=f"oidc:{idp.base}")
    added = [e for e in entries if e["action"] == "account.add" and e["target"] == "amelie.gagnon"]
    assert len(added) == 1 and added[0]["after"] == {"role": "analyst", "password": False, "oidc": idp.base}
    signed = _audit(base, ws, actor="user:amelie.gagnon", action="session.sign-in")
    assert len(signed) == 1 and signed[0]["after"] == {"via": "oidc", "issuer": idp.base}
    text = str(entries + signed)
    assert "id_token" not in text and "eyJ" not in text, "no token is written to the trail"


def test_the_strongest_mapped_role_wins_and_a_change_of_groups_is_recorded(base: str, idp: Provider,
                                                                            ws: Workspace) -> None:
    r, browser = _sign_in(base, idp, _person("li.nguyen", "/ministry/audit", "interdit-admins"), next_url="/audit")
    browser.close()
    assert r.status_code == 200 and str(r.url) == base + "/audit" and "(admin)" in r.text
    r, browser = _sign_in(base, idp, _person("li.nguyen", "/ministry/audit"), next_url="/audit")
    browser.close()
    assert r.status_code == 200 and "(auditor)" in r.text
    assert _users(base, ws)["li.nguyen"]["role"] == "auditor"
    changes = _audit(base, ws, action="account.role")
    mine = [e for e in changes if e["target"] == "li.nguyen"]
    assert len(mine) == 1 and mine[0]["before"] == {"role": "admin"} and mine[0]["after"] == {"role": "auditor"}
    assert mine[0]["actor"] == f"oidc:{idp.base}"
    assert len(_audit(base, ws, actor="user:li.nguyen", action="session.sign-in")) == 2
    assert len([e for e in _audit(base, ws, action="account.add") if e["target"] == "li.nguyen"]) == 1


def test_the_user_name_falls_back_to_the_email(base: str, idp: Provider, ws: Workspace) -> None:
    person = _person("x", "interdit-analysts")
    del person["preferred_username"]
    person |= {"sub": "sub-only-email", "email": "only.email@example.gc.ca"}
    r, browser = _sign_in(base, idp, person)
    browser.close()
    assert r.status_code == 200 and "only.email@example.gc.ca" in r.text


def test_the_login_page_offers_the_provider_in_both_languages(base: str) -> None:
    en = httpx.get(base + "/login?next=/violations", headers={"accept-language": "en"})
    assert "Sign in with Test IdP" in en.text and 'href="/login/oidc?next=%2Fviolations"' in en.text
    assert 'name="password"' in en.text, "passwords stay available without --oidc-only"
    fr = httpx.get(base + "/login", headers={"accept-language": "fr"})
    assert "Se connecter avec Test IdP" in fr.text


# -- refusals --------------------------------------------------------------------------------------------


def test_a_person_in_no_mapped_group_is_refused_in_english_and_french(base: str, idp: Provider,
                                                                       ws: Workspace) -> None:
    r, browser = _sign_in(base, idp, _person("paul.roy", "staff", "interdit-admins-old"))
    with closing(browser):
        _refused(r, browser, 403, "paul.roy is signed in at Test IdP, but is in no group that gives a role")
        assert "Sign-in refused" in r.text and '<html lang="en">' in r.text
        assert 'href="/lang/fr?next=%2Flogin"' in r.text, "switching language does not replay the callback"
    r, browser = _sign_in(base, idp, _person("paul.roy", "staff"), lang="fr")
    with closing(browser):
        _refused(r, browser, 403, "n'appartient à aucun groupe qui donne un rôle")
        assert "Connexion refusée" in r.text and '<html lang="fr">' in r.text
    assert "paul.roy" not in _users(base, ws), "no account for a person without a role"


def test_a_disabled_account_stays_refused(base: str, idp: Provider, ws: Workspace) -> None:
    r, browser = _sign_in(base, idp, _person("sam.tremblay", "interdit-analysts"))
    assert r.status_code == 200
    admin = {"Authorization": f"Bearer {ws.tokens['admin']}"}
    assert httpx.post(base + "/api/v1/users/sam.tremblay/disable", headers=admin).status_code == 200
    assert browser.get("/violations", follow_redirects=False).status_code == 303, "the session ends at once"
    browser.close()
    r, browser = _sign_in(base, idp, _person("sam.tremblay", "interdit-admins"))
    with closing(browser):
        _refused(r, browser, 403, "The account sam.tremblay is disabled in interdit")
    user = _users(base, ws)["sam.tremblay"]
    assert user["disabled"] and user["role"] == "analyst", "nor does its role change"


def test_a_password_account_of_the_same_name_is_not_taken_over(base: str, idp: Provider, ws: Workspace) -> None:
    r, browser = _sign_in(base, idp, _person("admin", "interdit-admins", sub="someone-else"))
    with closing(browser):
        _refused(r, browser, 409, "An account named admin already exists in interdit")
    assert not _users(base, ws)["admin"]["oidc"]


def test_a_wrong_state_is_refused(base: str, idp: Provider) -> None:
    browser, callback = _to_callback(base, idp, _person("eve.state", "interdit-admins"))
    asked = idp.token_requests
    with closing(browser):
        forged = re.sub(r"state=[^&]+", "state=forged-state", callback)
        r = browser.get(forged)
        _refused(r, browser, 400, "This sign-in expired, was started in another browser")
        assert idp.token_requests == asked, "the code is not even traded"
    # another browser that has no sign-in under way cannot use the callback either
    with httpx.Client(timeout=20) as other:
        r = other.get(callback)
        _refused(r, other, 400, "This sign-in expired")


def test_a_replayed_code_is_refused(base: str, idp: Provider) -> None:
    browser, callback = _to_callback(base, idp, _person("eve.replay", "interdit-admins"))
    flow_cookie = browser.cookies["interdit_oidc_flow"]
    with closing(browser):
        done = browser.get(callback)
        assert done.status_code == 303 and "interdit_session" in browser.cookies
    # the same callback, with the same flow cookie, a second time
    with httpx.Client(timeout=20, cookies={"interdit_oidc_flow": flow_cookie}) as again:
        r = again.get(callback)
        _refused(r, again, 400, "already came back once")
    # a fresh sign-in whose callback carries the used code: the provider refuses it
    fresh, fresh_callback = _to_callback(base, idp, _person("eve.replay", "interdit-admins"))
    with closing(fresh):
        old_code = parse_qs(urlsplit(callback).query)["code"][0]
        replayed = re.sub(r"code=[^&]+", f"code={old_code}", fresh_callback)
        r = fresh.get(replayed)
        _refused(r, fresh, 401, "could not be verified")


@pytest.mark.parametrize(("case", "tamper"), [
    ("signed by another key under the provider's kid", lambda p: {"sign_with": RSAKey.generate_key(
        2048, parameters={"kid": p.key.kid})}),
    ("signed by a key the provider does not publish", lambda p: {"sign_with": RSAKey.generate_key(
        2048, parameters={"kid": "stolen"})}),
    ("signed with the client secret (HS256)", lambda p: {"sign_with": OctKey.import_key(
        CLIENT_SECRET.encode(), parameters={"kid": p.key.kid}), "alg": "HS256"}),
    ("for another audience", lambda p: {"aud": "another-app"}),
    ("from another issuer", lambda p: {"iss": "https://evil.example"}),
    ("expired", lambda p: {"exp": int(time.time()) - 600, "iat": int(time.time()) - 1200}),
    ("issued in the future", lambda p: {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}),
    ("with another sign-in's nonce", lambda p: {"nonce": "not-this-sign-in"}),
    ("without a nonce", lambda p: {"nonce": None}),
    ("without a subject", lambda p: {"sub": None}),
    ("for several audiences without azp", lambda p: {"aud": [CLIENT_ID, "another-app"]}),
])
def test_an_id_token_that_does_not_check_is_refused(base: str, idp: Provider, ws: Workspace, case: str,
                                                    tamper: Any) -> None:
    idp.tamper.update(tamper(idp))
    name = "mallory." + re.sub(r"\W+", "-", case)[:40]
    r, browser = _sign_in(base, idp, _person(name, "interdit-admins"))
    with closing(browser):
        _refused(r, browser, 401, "The answer from Test IdP could not be verified, so nobody was signed in")
    assert name not in _users(base, ws)


def test_a_little_clock_difference_is_tolerated(base: str, idp: Provider) -> None:
    idp.tamper.update({"exp": int(time.time()) - 20, "iat": int(time.time()) - 320})
    r, browser = _sign_in(base, idp, _person("clock.skew", "interdit-analysts"))
    browser.close()
    assert r.status_code == 200 and "clock.skew" in r.text


def test_the_provider_saying_no_is_shown(base: str, idp: Provider) -> None:
    browser, callback = _to_callback(base, idp, _person("nope", "interdit-admins"))
    with closing(browser):
        state = parse_qs(urlsplit(callback).query)["state"][0]
        r = browser.get("/login/oidc/callback", params={"error": "access_denied", "state": state})
        _refused(r, browser, 401, "Test IdP did not sign you in (access_denied)")


def test_keys_rotated_at_the_provider_are_fetched_again_once(tmp_path: Path) -> None:
    ws = build_workspace(tmp_path / "ws", f"sqlite:///{tmp_path / 'rotation.db'}", devices=10)
    with running_provider() as idp, _interdit(ws, idp) as base:
        r, browser = _sign_in(base, idp, _person("rot.before", "interdit-analysts"))
        browser.close()
        assert r.status_code == 200 and idp.jwks_fetches == 1
        r, browser = _sign_in(base, idp, _person("rot.cached", "interdit-analysts"))
        browser.close()
        assert r.status_code == 200 and idp.jwks_fetches == 1, "the keys are kept between sign-ins"
        idp.rotate("key-2")
        r, browser = _sign_in(base, idp, _person("rot.after", "interdit-analysts"))
        browser.close()
        assert r.status_code == 200 and "rot.after" in r.text
        assert idp.jwks_fetches == 2, "an unknown kid fetches the keys once more"
        r, browser = _sign_in(base, idp, _person("rot.again", "interdit-analysts"))
        browser.close()
        assert r.status_code == 200 and idp.jwks_fetches == 2


def test_an_unreachable_provider_is_said_plainly(tmp_path: Path, ws: Workspace) -> None:
    closed = Provider(base="http://127.0.0.1:9")  # nothing listens on the discard port
    app = create_app(ws.settings, clock=clock, options=options(tmp_path, oidc=_config(closed)))
    with TestClient(app, base_url="http://testserver") as client:
        r = client.get("/login/oidc", follow_redirects=False, headers={"accept-language": "fr"})
        assert r.status_code == 502 and "Test IdP est injoignable" in r.text


def test_with_oidc_only_passwords_are_refused(tmp_path: Path, ws: Workspace) -> None:
    idp = Provider(base="http://127.0.0.1:9")
    app = create_app(ws.settings, clock=clock, options=options(tmp_path, oidc=_config(idp, only=True)))
    with TestClient(app, base_url="http://testserver") as client:
        page = client.get("/login")
        assert "Sign in with Test IdP" in page.text and 'name="password"' not in page.text
        r = client.post("/login", data={"username": "admin", "password": "correct horse battery staple",
                                        "csrf_token": "x"}, follow_redirects=False)
        assert r.status_code == 403 and "Sign-in with a password is turned off" in r.text
        assert "interdit_session" not in r.headers.get("set-cookie", "")


# -- configuration ---------------------------------------------------------------------------------------


def test_configuration_from_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-the-file\n")
    secret.chmod(0o600)
    config = OidcConfig.resolve({"INTERDIT_OIDC_ISSUER": "https://login.example.gc.ca/realms/gc",
                                 "INTERDIT_OIDC_CLIENT_ID": "interdit", "INTERDIT_OIDC_CLIENT_SECRET_FILE": str(secret),
                                 "INTERDIT_OIDC_ROLE_MAP": "g-admins=admin, /path/with=equals=auditor",
                                 "INTERDIT_OIDC_ROLE_CLAIM": "realm_access.roles"})
    assert config is not None and config.client_secret == "from-the-file"
    assert config.display_name == "login.example.gc.ca"
    assert config.role_map == (("g-admins", Role.ADMIN), ("/path/with=equals", Role.AUDITOR))
    assert config.role_for({"realm_access": {"roles": ["x", "/path/with=equals"]}}) is Role.AUDITOR
    assert "from-the-file" not in repr(config) and "from-the-file" not in repr(options(tmp_path, oidc=config))
    assert OidcConfig.resolve({}) is None


@pytest.mark.parametrize(("env", "message"), [
    ({"INTERDIT_OIDC_ISSUER": "http://idp.example.gc.ca", "INTERDIT_OIDC_CLIENT_ID": "i",
      "INTERDIT_OIDC_ROLE_MAP": "g=admin"}, "is not an https:// URL"),
    ({"INTERDIT_OIDC_ISSUER": "https://idp.example.gc.ca", "INTERDIT_OIDC_ROLE_MAP": "g=admin"}, "client id"),
    ({"INTERDIT_OIDC_ISSUER": "https://idp.example.gc.ca", "INTERDIT_OIDC_CLIENT_ID": "i"}, "no group"),
    ({"INTERDIT_OIDC_ISSUER": "https://idp.example.gc.ca", "INTERDIT_OIDC_CLIENT_ID": "i",
      "INTERDIT_OIDC_ROLE_MAP": "machines=ingest"}, "cannot sign in to the dashboard"),
    ({"INTERDIT_OIDC_ISSUER": "https://idp.example.gc.ca", "INTERDIT_OIDC_CLIENT_ID": "i",
      "INTERDIT_OIDC_ROLE_MAP": "g=boss"}, "unknown role"),
    ({"INTERDIT_OIDC_ONLY": "1"}, "needs an identity provider"),
])
def test_bad_configuration_is_refused_with_a_fix(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        OidcConfig.resolve(env)
    assert message in info.value.message and info.value.fix


def test_a_secret_file_others_can_read_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("hunter2")
    secret.chmod(0o644)
    with pytest.raises(ConfigError) as info:
        OidcConfig.resolve({"INTERDIT_OIDC_ISSUER": "https://idp.example.gc.ca", "INTERDIT_OIDC_CLIENT_ID": "i",
                            "INTERDIT_OIDC_ROLE_MAP": "g=admin"}, client_secret_file=secret)
    assert "can be read by other users" in info.value.message and info.value.fix == f"chmod 600 {secret}"
    assert "hunter2" not in str(info.value)


# -- in a real browser -----------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/system-deps.sh)")
def test_sign_in_with_the_provider_in_chromium(base: str, idp: Provider) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(locale="fr-CA", extra_http_headers={"Accept-Language": "fr-CA,fr;q=0.9"})
            idp.user = _person("nadia.chromium", "staff")
            page.goto(base + "/violations")
            expect(page).to_have_url(re.compile(r"/login\?next="))
            page.screenshot(path=str(ARTIFACTS / "oidc-login-fr.png"), full_page=True)
            page.get_by_role("link", name="Se connecter avec Test IdP").click()
            expect(page.locator("h1")).to_have_text("Connexion refusée")
            expect(page.locator("#explain")).to_contain_text("n'appartient à aucun groupe")
            page.screenshot(path=str(ARTIFACTS / "oidc-refused-fr.png"), full_page=True)
            idp.user = _person("nadia.chromium", "staff", "interdit-analysts")
            page.get_by_role("link", name="Se connecter de nouveau").click()
            page.get_by_role("link", name="Se connecter avec Test IdP").click()
            expect(page).to_have_url(base + "/")
            expect(page.locator(".me")).to_contain_text("nadia.chromium")
            page.goto(base + "/violations")
            expect(page.locator("h1")).to_have_text("Infractions")
        finally:
            browser.close()
