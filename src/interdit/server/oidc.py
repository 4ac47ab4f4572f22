"""Sign-in through an OpenID Connect provider (Entra ID, Keycloak, Okta, Google...): the authorization-code flow
with PKCE (S256), `state` and `nonce`, and the ID token checked against the provider's published keys.

Nothing the provider sends is kept: the access token is dropped at once, no refresh token is asked for, and the
ID token is read once, to name the person and their groups. The person then gets the dashboard's usual session
cookie. The flow's own secrets (state, nonce, PKCE verifier) travel in an encrypted cookie that lives ten
minutes, so any server process can finish a sign-in another one started.

HTTP goes through httpx and the JOSE work (JWKS, JWS, JWT claims) through joserfc: Authlib's Starlette client
keeps its state in Starlette's SessionMiddleware, a second session cookie next to the one interdit signs itself.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import logging
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from cryptography.fernet import Fernet, InvalidToken
from joserfc import jwk, jws, jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry

from interdit.errors import ConfigError
from interdit.storage.accounts import USERNAME_MAX, Role

if TYPE_CHECKING:
    from interdit.pipeline.accounts import OidcSignIn
    from interdit.pipeline.audit import Recorder
    from interdit.storage.accounts import AccountStore

log = logging.getLogger("interdit.api.oidc")

DEFAULT_SCOPES = ("openid", "profile", "email")
DEFAULT_ROLE_CLAIM = "groups"
DEFAULT_USERNAME_CLAIM = "preferred_username"
FALLBACK_USERNAME_CLAIM = "email"
# signatures with a public key only: never "none", never a shared secret
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY = 60  # seconds of clock difference allowed on exp and iat
FLOW_SECONDS = 600  # time to come back from the provider
METADATA_SECONDS = 3600.0  # discovery and keys are fetched again after this
REFETCH_SECONDS = 10.0  # an unknown key id fetches the keys again, at most this often
HTTP_TIMEOUT = 10.0
# who may sign in to the dashboard, strongest first: when several groups map, the first of these wins
PERSON_ROLES = (Role.ADMIN, Role.ANALYST, Role.AUDITOR)


# -- configuration -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OidcConfig:
    """The provider interdit trusts to say who a person is and, through their groups, what they may do."""

    issuer: str
    client_id: str
    client_secret: str = field(default="", repr=False)  # never printed nor logged
    role_claim: str = DEFAULT_ROLE_CLAIM
    role_map: tuple[tuple[str, Role], ...] = ()
    username_claim: str = DEFAULT_USERNAME_CLAIM
    provider_name: str = ""
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    redirect_url: str = ""  # the callback URL registered at the provider; else built from the request
    only: bool = False  # no password sign-in on the dashboard

    @property
    def display_name(self) -> str:
        return self.provider_name or urlsplit(self.issuer).hostname or self.issuer

    def role_for(self, claims: Mapping[str, Any]) -> Role | None:
        """The interdit role the person's groups (or roles) map to; the strongest when several do."""
        values = set(claim_values(claims, self.role_claim))
        granted = {role for group, role in self.role_map if group in values}
        return next((r for r in PERSON_ROLES if r in granted), None)

    @classmethod
    def resolve(cls, environ: Mapping[str, str] | None = None, *, issuer: str | None = None,
                client_id: str | None = None, client_secret_file: Path | None = None, role_claim: str | None = None,
                role_map: Iterable[str] | None = None, username_claim: str | None = None,
                provider_name: str | None = None, scopes: str | None = None, redirect_url: str | None = None,
                only: bool | None = None) -> OidcConfig | None:
        """Options first, then INTERDIT_OIDC_* variables; None when no issuer is configured."""
        env = os.environ if environ is None else environ
        issuer = issuer or env.get("INTERDIT_OIDC_ISSUER", "")
        only = only if only is not None else env.get("INTERDIT_OIDC_ONLY", "").lower() in ("1", "true", "yes")
        if not issuer:
            if only:
                raise ConfigError("--oidc-only needs an identity provider",
                                  fix="give --oidc-issuer and --oidc-client-id, or drop --oidc-only")
            return None
        check_url(issuer, "the issuer")
        client_id = client_id or env.get("INTERDIT_OIDC_CLIENT_ID", "")
        if not client_id:
            raise ConfigError("an identity provider needs the client id interdit was registered with",
                              fix="give --oidc-client-id ID or set INTERDIT_OIDC_CLIENT_ID")
        secret_path = client_secret_file or (Path(env["INTERDIT_OIDC_CLIENT_SECRET_FILE"])
                                             if env.get("INTERDIT_OIDC_CLIENT_SECRET_FILE") else None)
        secret = read_secret_file(secret_path) if secret_path else env.get("INTERDIT_OIDC_CLIENT_SECRET", "")
        mapping = parse_role_map(role_map if role_map else _split(env.get("INTERDIT_OIDC_ROLE_MAP", "")))
        if not mapping:
            raise ConfigError("no group of the identity provider is mapped to a role, so nobody could sign in",
                              fix="give --oidc-role-map GROUP=ROLE (e.g. interdit-admins=admin), once per group")
        redirect = redirect_url or env.get("INTERDIT_OIDC_REDIRECT_URL", "")
        if redirect:
            check_url(redirect, "the redirect URL")
        words = (scopes or env.get("INTERDIT_OIDC_SCOPES", "")).replace(",", " ").split()
        return cls(issuer=issuer, client_id=client_id, client_secret=secret,
                   role_claim=role_claim or env.get("INTERDIT_OIDC_ROLE_CLAIM") or DEFAULT_ROLE_CLAIM,
                   role_map=mapping,
                   username_claim=username_claim or env.get("INTERDIT_OIDC_USERNAME_CLAIM") or DEFAULT_USERNAME_CLAIM,
                   provider_name=provider_name or env.get("INTERDIT_OIDC_PROVIDER_NAME", ""),
                   scopes=tuple(dict.fromkeys(["openid", *words])) if words else DEFAULT_SCOPES,
                   redirect_url=redirect, only=only)


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]


def parse_role_map(items: Iterable[str]) -> tuple[tuple[str, Role], ...]:
    """`GROUP=ROLE` pairs; the group is everything before the last `=` (group paths may contain one)."""
    pairs: list[tuple[str, Role]] = []
    for item in items:
        group, sep, role = item.strip().rpartition("=")
        if not sep or not group.strip():
            raise ConfigError(f"cannot read the role mapping {item!r}",
                              fix="write GROUP=ROLE, e.g. interdit-admins=admin")
        try:
            chosen = Role(role.strip())
        except ValueError:
            raise ConfigError(f"unknown role {role.strip()!r} in {item!r}",
                              fix="map groups to admin, analyst or auditor") from None
        if chosen not in PERSON_ROLES:
            raise ConfigError(f"the role {chosen.value!r} cannot sign in to the dashboard ({item!r})",
                              fix="map groups to admin, analyst or auditor; machines use API tokens")
        pairs.append((group.strip(), chosen))
    return tuple(pairs)


def read_secret_file(path: Path) -> str:
    """The client secret from a file only its owner can read (mode 0600 or 0400)."""
    try:
        mode = path.stat().st_mode
        text = path.read_text("utf-8").strip()
    except OSError as e:
        raise ConfigError(f"cannot read the client secret file {path}: {e.strerror}",
                          fix="give the path of a file that holds the secret") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"the client secret file {path} can be read by other users",
                          fix=f"chmod 600 {path}")
    if not text:
        raise ConfigError(f"the client secret file {path} is empty", fix="write the secret into it")
    return text


def check_url(url: str, what: str) -> None:
    """HTTPS, or HTTP to this machine only (a provider run for a trial or a test)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return
    raise ConfigError(f"{what} {url!r} is not an https:// URL",
                      fix="use the provider's https:// address (http:// is accepted for 127.0.0.1 and localhost)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def claim_values(claims: Mapping[str, Any], name: str) -> list[str]:
    """A claim's values as strings: a list, one string, or a dotted path (Keycloak's `realm_access.roles`)."""
    value: Any = claims.get(name)
    if value is None and "." in name:
        value = claims
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


# -- refusals ------------------------------------------------------------------------------------------


class OidcRefused(Exception):
    """A sign-in that does not go through: `key` names the words the person reads, `reason` what the log says."""

    def __init__(self, status: int, key: str, reason: str, **values: str) -> None:
        super().__init__(reason)
        self.status = status
        self.key = key
        self.reason = reason
        self.values = values


# -- the flow's state, kept in an encrypted cookie -----------------------------------------------------


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    verifier: str
    next: str
    redirect_uri: str

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    @classmethod
    def start(cls, next_url: str, redirect_uri: str) -> Flow:
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64), next_url,
                   redirect_uri)


class FlowSealer:
    """Encrypts the flow into its cookie (Fernet: AES-CBC and HMAC, with its time), with a key of its own."""

    def __init__(self, secret: str) -> None:
        key = hashlib.sha256(b"interdit-oidc-flow\x00" + secret.encode("utf-8")).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, flow: Flow) -> str:
        body = json.dumps([flow.state, flow.nonce, flow.verifier, flow.next, flow.redirect_uri])
        return self._fernet.encrypt(body.encode("utf-8")).decode("ascii")

    def open(self, value: str) -> Flow | None:
        if not value or len(value) > 4096:
            return None
        try:
            body = json.loads(self._fernet.decrypt(value.encode("ascii"), ttl=FLOW_SECONDS))
        except (InvalidToken, ValueError, UnicodeError):
            return None
        if not isinstance(body, list) or len(body) != 5 or not all(isinstance(v, str) for v in body):
            return None
        return Flow(*body)


# -- the provider --------------------------------------------------------------------------------------


class OidcClient:
    """Discovery, the authorization URL, the code exchange and the ID token's checks, for one provider."""

    def __init__(self, config: OidcConfig, *, http: httpx.Client | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self.config = config
        self.http = http or httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False,
                                         headers={"accept": "application/json"})
        self.now = now
        self._lock = threading.Lock()
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, dict[str, jwk.Key]] | None = None
        self._forced_at = -REFETCH_SECONDS
        self._used: dict[str, float] = {}

    # -- what the provider publishes -------------------------------------------------------------------

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            answer = self.http.get(url)
        except httpx.HTTPError as e:
            raise OidcRefused(502, "oidc.unreachable", f"{what}: {type(e).__name__}: {e}") from None
        if answer.status_code != 200:
            raise OidcRefused(502, "oidc.unreachable", f"{what}: HTTP {answer.status_code} from {url}")
        try:
            body = answer.json()
        except ValueError:
            raise OidcRefused(502, "oidc.unreachable", f"{what}: not JSON from {url}") from None
        if not isinstance(body, dict):
            raise OidcRefused(502, "oidc.unreachable", f"{what}: not a JSON object from {url}")
        return body

    def metadata(self) -> dict[str, Any]:
        """`{issuer}/.well-known/openid-configuration`, checked and kept for an hour."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata[0] < METADATA_SECONDS:
                return self._metadata[1]
        url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        found = self._get_json(url, "discovery")
        if str(found.get("issuer", "")).rstrip("/") != self.config.issuer.rstrip("/"):
            raise OidcRefused(502, "oidc.unreachable",
                              f"discovery names the issuer {found.get('issuer')!r}, not {self.config.issuer!r}")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = found.get(name)
            try:
                check_url(value if isinstance(value, str) else "", name)
            except ConfigError as e:
                raise OidcRefused(502, "oidc.unreachable", f"discovery: {e.message}") from None
        with self._lock:
            self._metadata = (time.monotonic(), found)
        return found

    def _signing_keys(self, *, force: bool = False) -> dict[str, jwk.Key]:
        with self._lock:
            if not force and self._keys is not None and time.monotonic() - self._keys[0] < METADATA_SECONDS:
                return self._keys[1]
        body = self._get_json(str(self.metadata()["jwks_uri"]), "keys")
        keys: dict[str, jwk.Key] = {}
        for item in body.get("keys", []) if isinstance(body.get("keys"), list) else []:
            if not isinstance(item, dict) or item.get("use", "sig") != "sig":
                continue
            try:
                key = jwk.import_key(item)
            except (JoseError, ValueError, TypeError):  # a kind of key this side does not read: not ours to use
                continue
            keys[str(item.get("kid", ""))] = key
        with self._lock:
            self._keys = (time.monotonic(), keys)
        return keys

    def key_for(self, kid: str) -> jwk.Key:
        """The provider's key `kid`; an unknown one fetches the keys again (the provider rotated them)."""
        keys = self._signing_keys()
        if kid in keys:
            return keys[kid]
        with self._lock:
            may_refetch = time.monotonic() - self._forced_at >= REFETCH_SECONDS
            if may_refetch:
                self._forced_at = time.monotonic()
        if may_refetch:
            keys = self._signing_keys(force=True)
            if kid in keys:
                return keys[kid]
        if not kid and len(keys) == 1:
            return next(iter(keys.values()))
        raise OidcRefused(401, "oidc.failed", f"the ID token is signed with a key the provider does not publish "
                                              f"(kid {kid!r})")

    # -- the flow ----------------------------------------------------------------------------------------

    def authorization_url(self, flow: Flow) -> str:
        endpoint = str(self.metadata()["authorization_endpoint"])
        query = urlencode({"response_type": "code", "client_id": self.config.client_id,
                           "redirect_uri": flow.redirect_uri, "scope": " ".join(self.config.scopes),
                           "state": flow.state, "nonce": flow.nonce, "code_challenge": flow.challenge,
                           "code_challenge_method": "S256"})
        return endpoint + ("&" if "?" in endpoint else "?") + query

    def consume(self, state: str) -> bool:
        """True the first time a flow comes back, False after: a callback cannot be played twice."""
        now = time.monotonic()
        with self._lock:
            if len(self._used) > 10_000:
                self._used = {k: v for k, v in self._used.items() if now - v < FLOW_SECONDS}
            if state in self._used and now - self._used[state] < FLOW_SECONDS:
                return False
            self._used[state] = now
            return True

    def exchange(self, code: str, flow: Flow) -> str:
        """Trade the code (and the PKCE verifier) for the ID token; the access token is not kept."""
        meta = self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
                "code_verifier": flow.verifier}
        headers: dict[str, str] = {}
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if not self.config.client_secret:
            form["client_id"] = self.config.client_id  # a public client: PKCE alone
        elif "client_secret_basic" in methods:
            # RFC 6749 2.3.1: both parts form-encoded before base64
            pair = f"{quote(self.config.client_id, safe='')}:{quote(self.config.client_secret, safe='')}"
            headers["authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        else:
            form |= {"client_id": self.config.client_id, "client_secret": self.config.client_secret}
        try:
            answer = self.http.post(str(meta["token_endpoint"]), data=form, headers=headers)
        except httpx.HTTPError as e:
            raise OidcRefused(502, "oidc.unreachable", f"token endpoint: {type(e).__name__}: {e}") from None
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if answer.status_code != 200 or not isinstance(body, dict):
            error = body.get("error", "") if isinstance(body, dict) else ""
            raise OidcRefused(401, "oidc.failed", f"the token endpoint refused the code: HTTP {answer.status_code} "
                                                  f"{str(error)[:100]}")
        id_token = body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise OidcRefused(401, "oidc.failed", "the token endpoint sent no ID token (is 'openid' in the scopes?)")
        return id_token

    def verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims once its signature, issuer, audience, times and nonce check."""
        try:
            header = jws.extract_compact(id_token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError):
            raise OidcRefused(401, "oidc.failed", "the ID token cannot be read") from None
        alg = header.get("alg")
        allowed = [a for a in ALGORITHMS if a in (self.metadata().get("id_token_signing_alg_values_supported")
                                                  or ["RS256"])]
        if alg not in allowed:
            raise OidcRefused(401, "oidc.failed", f"the ID token is signed with {alg!r}; accepted: {allowed}")
        key = self.key_for(str(header.get("kid") or ""))
        try:
            token = jwt.decode(id_token, key, algorithms=[str(alg)])
        except JoseError as e:
            raise OidcRefused(401, "oidc.failed", f"the ID token's signature does not check: {e}") from None
        claims = token.claims
        issuer = str(self.metadata()["issuer"])
        registry = JWTClaimsRegistry(
            now=int(self.now()), leeway=LEEWAY, iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": self.config.client_id}, exp={"essential": True},
            iat={"essential": True}, sub={"essential": True}, nonce={"essential": True, "value": nonce})
        try:
            registry.validate(claims)
        except JoseError as e:
            raise OidcRefused(401, "oidc.failed", f"the ID token does not check: {e}") from None
        if claims["iat"] > self.now() + LEEWAY:  # RFC 7519 leaves this to us; a token from the future is not one
            raise OidcRefused(401, "oidc.failed", "the ID token was issued in the future")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise OidcRefused(401, "oidc.failed", "the ID token names several audiences but not interdit as 'azp'")
        if not secrets.compare_digest(str(claims["nonce"]).encode(), nonce.encode()):
            raise OidcRefused(401, "oidc.failed", "the ID token's nonce is not this sign-in's")
        return claims

    def username(self, claims: Mapping[str, Any]) -> str:
        for name in (self.config.username_claim, FALLBACK_USERNAME_CLAIM):
            value = claims.get(name)
            if isinstance(value, str) and value.strip():
                name_ = value.strip()
                if len(name_) > USERNAME_MAX or any(c.isspace() for c in name_):
                    raise OidcRefused(403, "oidc.no_username", f"the user name {name_[:200]!r} cannot be used")
                return name_
        raise OidcRefused(403, "oidc.no_username", f"the ID token has neither {self.config.username_claim!r} "
                                                   f"nor {FALLBACK_USERNAME_CLAIM!r}")


# -- from the ID token to an account -------------------------------------------------------------------


REFUSED = {"oidc.disabled": 403, "oidc.no_role": 403, "oidc.taken": 409}  # the answer to each refusal


def sign_in(accounts: AccountStore, record: Recorder, client: OidcClient, claims: Mapping[str, Any]) -> OidcSignIn:
    """The account of the person a verified ID token names, through the pipeline's `sign_in_oidc` (created on
    their first sign-in, its role kept in step with their groups); its refusals become `OidcRefused`."""
    from interdit.pipeline.accounts import SignInRefused, sign_in_oidc

    username = client.username(claims)
    try:
        return sign_in_oidc(accounts, record, issuer=str(claims["iss"]), subject=str(claims["sub"]),
                            username=username, role=client.config.role_for(claims),
                            role_claim=client.config.role_claim)
    except SignInRefused as refusal:
        raise OidcRefused(REFUSED.get(refusal.key, 403), refusal.key, refusal.reason, **refusal.values) from None
