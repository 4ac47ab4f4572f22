"""The dashboard: server-rendered pages (readable without JavaScript), htmx for filters, English and French."""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from datetime import date
from functools import partial
from importlib.resources import files
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from interdit import pipeline
from interdit.errors import InterditError
from interdit.pipeline.audit import AuditAction
from interdit.server import views
from interdit.server.auth import (
    AUDIT_READERS,
    CSRF_FIELD,
    LANG_COOKIE,
    READERS,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    Principal,
    check_csrf,
    principal_from,
    session_value,
)
from interdit.server.context import ServerContext, server
from interdit.server.oidc import FLOW_SECONDS, Flow, OidcRefused, sign_in
from interdit.server.problems import Problem
from interdit.server.schemas import ExceptionIn, exception_out
from interdit.server.signin import Busy
from interdit.server.web import as_of, i18n
from interdit.storage.accounts import Account, Role

log = logging.getLogger("interdit.web")

router = APIRouter(include_in_schema=False)
LOGIN_CSRF = "interdit_login_csrf"
OIDC_FLOW = "interdit_oidc_flow"  # the encrypted state of a sign-in at the identity provider
OIDC_PATH = "/login/oidc"
PAGE = 50
SIGHTINGS = 200  # a device page shows its newest sightings, up to this many

_templates: Jinja2Templates | None = None


def templates() -> Jinja2Templates:
    global _templates
    if _templates is None:
        _templates = Jinja2Templates(directory=str(files("interdit").joinpath("server/web/templates")))
        _templates.env.globals.update(number=i18n.number, percent=i18n.percent, when=i18n.when, quote=quote)
    return _templates


class Redirect(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def lang_of(request: Request) -> str:
    return i18n.pick_lang(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def render(request: Request, name: str, who: Principal | None, status: int = 200, **values: Any) -> HTMLResponse:
    lang = lang_of(request)
    context = {"request": request, "lang": lang, "t": i18n.translator(lang), "who": who,
               "csrf": who.csrf if who else "", "path": request.url.path,
               "query": request.url.query, "can_admin": who is not None and who.role is Role.ADMIN,
               "can_audit": who is not None and who.role in AUDIT_READERS, **values}
    response = templates().TemplateResponse(request, name, context, status_code=status)
    response.headers["content-language"] = lang
    response.headers["vary"] = "Accept-Language, Cookie"
    return response


def signed_in(request: Request, roles: tuple[Role, ...] = READERS) -> Principal:
    ctx = server(request)
    who = principal_from(request, ctx)
    if who is None or who.via != "session":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise Redirect("/login?" + urlencode({"next": target}))
    if who.role not in roles:
        raise Problem(403, "forbidden")
    return who


def page(request: Request, name: str, roles: tuple[Role, ...], make: Any, **extra: Any) -> Response:
    """Render `name` with what `make(ctx, who)` returns; sign-in, role and error handling in one place."""
    try:
        who = signed_in(request, roles)
        values = make(server(request), who)
        if isinstance(values, Response):
            return values
        return render(request, name, who, **values, **extra)
    except Redirect as r:
        return RedirectResponse(r.url, status_code=303)
    except Problem as p:
        who_ = principal_from(request, server(request))
        key = {403: "forbidden", 404: "not_found"}.get(p.status, "error")
        return render(request, "error.html", who_, status=p.status, message_key=key, detail=p.detail)
    except InterditError as e:
        who_ = principal_from(request, server(request))
        return render(request, "error.html", who_, status=422, message_key="error", detail=str(e))


# -- sign-in, language --------------------------------------------------------------------------------


def _printable(text: str) -> str:
    return "".join(c for c in text if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF)


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, target: str, *, status: int = 200, failed: bool = False,
                username: str = "") -> Response:
    ctx = server(request)
    oidc = ctx.options.oidc
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, status=status, next=target, login_csrf=token, failed=failed,
                      username=_printable(username), provider=oidc.display_name if oidc else None,
                      provider_url=f"{OIDC_PATH}?{urlencode({'next': target})}",
                      passwords=oidc is None or not oidc.only)
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="lax", secure=ctx.options.secure_cookies,
                        max_age=3600, path="/login")
    return response


def _come_back(request: Request, status: int, key: str, wait: int) -> Response:
    """429 (too many failed sign-ins for this name or address) or 503 (too many being checked): a short page,
    made without the template, that says when to try again; the password was not checked."""
    from html import escape

    lang = lang_of(request)
    text = escape(i18n.translator(lang)(key, seconds=wait))
    again = escape(i18n.translator(lang)("sign_in"))
    body = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{again}</title></head><body>'
            f'<p role="alert" id="login-wait">{text}</p><p><a href="/login">{again}</a></p></body></html>')
    return HTMLResponse(body, status_code=status, headers={"retry-after": str(wait), "content-language": lang})


def _signed_in(ctx: ServerContext, account: Account, target: str) -> Response:
    """The session cookie, the same whichever way the person signed in."""
    value, _ = session_value(ctx, account)
    done = RedirectResponse(target, status_code=303)
    done.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="lax", secure=ctx.options.secure_cookies,
                    max_age=SESSION_MAX_AGE, path="/")
    return done


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, _safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    ctx = server(request)
    if ctx.options.oidc is not None and ctx.options.oidc.only:
        return render(request, "error.html", None, status=403, message_key="oidc.title",
                      explain="oidc.passwords_off", explain_values={"provider": ctx.options.oidc.display_name})
    if ctx.passwords.full:  # answered before anything else is read: a flood costs as little as possible
        return _come_back(request, 503, "login_busy", 1)
    form = await request.form(max_files=0, max_fields=10)
    username, password = str(form.get("username", ""))[:200], str(form.get("password", ""))[:1000]
    sent, expected = str(form.get(CSRF_FIELD, "")), request.cookies.get(LOGIN_CSRF, "")
    target = _safe_next(str(form.get("next", "/")))
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        return render(request, "error.html", None, status=403, message_key="error",
                      detail="the sign-in form expired; reload it")
    keys = ctx.throttle.keys(username, request.client.host if request.client else "")
    wait = ctx.throttle.wait(keys)
    if wait:
        return _come_back(request, 429, "login_wait", wait)
    try:
        account = await ctx.passwords.run(lambda: ctx.accounts.authenticate(username, password))
    except Busy as busy:
        return _come_back(request, 503, "login_busy", busy.retry_after)
    if account is None or account.role is Role.INGEST:
        for locked in ctx.throttle.failed(keys):
            await run_in_threadpool(ctx.record, "anonymous", AuditAction.SESSION_THROTTLE, locked,
                                    after={"free_failures": ctx.throttle.free[locked.split(":", 1)[0]]})
        return _login_page(request, target, status=401, failed=True, username=username)
    ctx.throttle.succeeded(keys)
    done = await run_in_threadpool(_signed_in, ctx, account, target)
    await run_in_threadpool(ctx.record, f"user:{account.username}", AuditAction.SESSION_SIGN_IN, account.username)
    done.delete_cookie(LOGIN_CSRF, path="/login")
    return done


def _refused(request: Request, refusal: OidcRefused) -> Response:
    """The page a person reads when the provider's sign-in does not go through (the log says why)."""
    log.warning("sign-in through the identity provider refused: %s", refusal.reason)
    ctx = server(request)
    provider = ctx.options.oidc.display_name if ctx.options.oidc else ""
    response = render(request, "error.html", None, status=refusal.status, message_key="oidc.title",
                      explain=refusal.key, explain_values={"provider": provider, **refusal.values},
                      again="/login", path="/login", query="")  # the language toggle must not replay the callback
    response.delete_cookie(OIDC_FLOW, path=OIDC_PATH)
    return response


@router.get(OIDC_PATH)
def oidc_start(request: Request, next: str = "/") -> Response:
    """Send the person to the provider, with a fresh state, nonce and PKCE challenge."""
    ctx = server(request)
    client = ctx.oidc
    if client is None:
        return render(request, "error.html", None, status=404, message_key="not_found")
    redirect_uri = client.config.redirect_url or str(request.url_for("oidc_callback"))
    flow = Flow.start(_safe_next(next), redirect_uri)
    try:
        url = client.authorization_url(flow)
    except OidcRefused as refusal:
        return _refused(request, refusal)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(OIDC_FLOW, ctx.flows.seal(flow), httponly=True, samesite="lax",
                        secure=ctx.options.secure_cookies, max_age=FLOW_SECONDS, path=OIDC_PATH)
    return response


@router.get(OIDC_PATH + "/callback", name="oidc_callback")
def oidc_callback(request: Request) -> Response:
    """Back from the provider: check the state, trade the code, check the ID token, then the usual session."""
    ctx = server(request)
    client = ctx.oidc
    if client is None:
        return render(request, "error.html", None, status=404, message_key="not_found")
    q = request.query_params
    try:
        flow = ctx.flows.open(request.cookies.get(OIDC_FLOW, ""))
        state = q.get("state", "")
        if flow is None or not secrets.compare_digest(state.encode(), flow.state.encode()):
            raise OidcRefused(400, "oidc.expired", "the state does not match this browser's sign-in, or it expired")
        if not client.consume(flow.state):
            raise OidcRefused(400, "oidc.expired", "this sign-in already came back once")
        if q.get("error"):
            raise OidcRefused(401, "oidc.provider_refused", f"the provider answered {q.get('error', '')[:100]!r}: "
                                                            f"{q.get('error_description', '')[:300]}",
                              error=q.get("error", "")[:100])
        code = q.get("code", "")
        if not code or len(code) > 4096:
            raise OidcRefused(400, "oidc.failed", "the provider sent no code")
        claims = client.verify(client.exchange(code, flow), flow.nonce)
        signed = sign_in(ctx.accounts, ctx.trail, client, claims)
        if signed.role_changed:
            ctx.credentials.forget()  # the person's tokens and sessions now carry another role
        account = signed.account
    except OidcRefused as refusal:
        return _refused(request, refusal)
    done = _signed_in(ctx, account, flow.next)
    done.delete_cookie(OIDC_FLOW, path=OIDC_PATH)
    return done


@router.post("/logout")
async def logout(request: Request) -> Response:
    ctx = server(request)
    who = principal_from(request, ctx)
    if who is not None:
        await check_csrf(request, who)
        if who.session:
            await run_in_threadpool(ctx.credentials.end_session, who.session)  # the cookie opens nothing from now on
            ctx.record(who, AuditAction.SESSION_SIGN_OUT, who.account.username)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def set_lang(request: Request, code: str, next: str = "/") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if code in i18n.LANGS:
        response.set_cookie(LANG_COOKIE, code, samesite="lax", max_age=365 * 86400, path="/",
                            secure=server(request).options.secure_cookies)
    return response


# -- pages ----------------------------------------------------------------------------------------------


@router.get("/")
def overview(request: Request) -> Response:
    def make(ctx: ServerContext, who: Principal) -> dict[str, Any]:
        picked = as_of.picked(request)
        imports = ctx.repo.import_times()
        cur = views.current(ctx) if picked is None else as_of.current(ctx, picked)
        if not cur.summary.devices_total and not imports:
            return {"empty": True}
        s = cur.summary
        attention = {k: s.by_state.get(k, 0) for k in ("violation", "blocked_present", "not_evaluable", "stale")}
        units = sorted(((k, v[0], v[1], v[1] / v[0] if v[0] else None) for k, v in s.by_org_unit.items()),
                       key=lambda r: 2.0 if r[3] is None else r[3])
        families = sorted(s.by_family.items(), key=lambda kv: -kv[1])
        sources = sorted(s.by_source.items())
        history = [*(views.history(ctx) if picked is None else as_of.history(ctx, cur)), s]
        directives = _by_directive(cur, history)
        return {"directives": directives, "empty": False, "cur": cur, "s": s, "history": history, "units": units,
                "picked": picked, "latest_import": as_of.stale_latest(cur, imports) if picked is None else None,
                "families": families, "sources": sources, "attention": attention, "deadlines": views.deadlines(cur),
                "review": cur.review, "catalogue": cur.loaded.catalogue, **_coverage(s, lang_of(request)),
                "scope_notes": pipeline.scope_notes(s, cur.loaded.catalogue, lang_of(request))}

    return page(request, "overview.html", READERS, make)


def _coverage(s: Any, lang: str) -> dict[str, Any]:
    """Why devices could not be evaluated, in words: overall ("297 devices not evaluable: 163 Android work
    profiles, ...") and per source, with what to do about each reason."""
    line, rows = pipeline.coverage_words(s, lang)
    return {"coverage_line": line, "coverage_rows": rows}


def _by_directive(cur: views.Current, history: list[Any]) -> list[dict[str, Any]]:
    """Each rule of the policy (an adopted directive or the organisation's own rule): its figures now when it is
    in force, its dates, the days left to its deadline, and its rate on each day of the trend."""
    today = cur.as_of.date()
    cat = cur.loaded.catalogue
    rows = []
    for rule in cur.loaded.policy.rules:
        directive = cat.directives.get(rule.directive) if rule.directive else None
        rows.append({"rule": rule, "directive": directive, "now": cur.summary.by_rule.get(rule.id),
                     "left": (rule.deadline - today).days,
                     "over_time": [h.by_rule.get(rule.id) for h in history]})
    return rows


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    states = [v for v in q.getlist("state") if v][:6] or ["violation"]
    return {"state": states, "family": q.get("family") or None, "org_unit": q.get("org_unit") or None,
            "source": q.get("source") or None, "kind": q.get("kind") or None, "cursor": q.get("cursor") or None}


@router.get("/violations")
def violations(request: Request) -> Response:
    def make(ctx: ServerContext, who: Principal) -> dict[str, Any]:
        f = _filters(request)
        cur = views.current(ctx)
        selected = views.select(cur.findings, state=f["state"], kind=f["kind"], family=f["family"],
                                org_unit=f["org_unit"], source=f["source"])
        if f["cursor"]:
            selected = [x for x in selected if x.id > f["cursor"]]
        shown = selected[:PAGE]
        more = len(selected) > PAGE
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
        next_url = f"/violations?{urlencode([*params, ('cursor', shown[-1].id)])}" if more and shown else None
        partial = request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == "results"
        return {"f": f, "findings": shown, "total": len(selected), "next_url": next_url, "devices": cur.devices,
                "families": sorted(cur.loaded.catalogue.families), "units": sorted(cur.summary.by_org_unit),
                "sources": sorted({x.source for x in cur.findings}), "partial": partial,
                "states": ["violation", "blocked_present", "excepted", "not_evaluable", "stale", "resolved"]}

    if request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == "results":
        return page(request, "_findings.html", READERS, make)
    return page(request, "violations.html", READERS, make)


@router.get("/devices/{source}/{device_id:path}")
def device(request: Request, source: str, device_id: str) -> Response:
    def make(ctx: ServerContext, who: Principal) -> dict[str, Any]:
        detail = views.device_detail(ctx, source, device_id)
        attributes = detail.get("device") if isinstance(detail.get("device"), dict) else detail
        apps: list[Any] = list(detail.get("apps") or [])
        history = [{"valid_from": v.get("valid_from"), "valid_to": v.get("valid_to"),
                    **{k: (v.get("device") or {}).get(k) for k in ("org_unit", "user", "management", "ownership",
                                                                   "os_version")}}
                   for v in detail.get("versions", []) if isinstance(v, dict)]
        simple = {k: v for k, v in (attributes or {}).items() if not isinstance(v, dict | list) or k == "groups"}
        sightings = pipeline.sightings(ctx.repo, device=(source, device_id), limit=SIGHTINGS + 1)
        return {"source": source, "device_id": device_id, "attributes": simple, "apps": apps,
                "findings": detail.get("current_findings", []), "history": history,
                "sightings": sightings[:SIGHTINGS], "more_sightings": len(sightings) > SIGHTINGS}

    return page(request, "device.html", READERS, make)


@router.get("/catalogue")
def catalogue_page(request: Request) -> Response:
    def make(ctx: ServerContext, who: Principal) -> dict[str, Any]:
        cat = pipeline.catalogue()
        return {"families": sorted(cat.families.values(), key=lambda f: f.name.lower()),
                "directives": sorted(cat.directives.values(), key=lambda d: d.effective, reverse=True),
                "vendors": cat.vendors}

    return page(request, "catalogue.html", READERS, make)


@router.get("/families/{family_id}")
def family_page(request: Request, family_id: str) -> Response:
    def make(ctx: ServerContext, who: Principal) -> dict[str, Any]:
        cat = pipeline.catalogue()
        fam = cat.families.get(family_id)
        if fam is None:
            raise Problem(404, f"no app family {family_id!r}")
        directives = [d for d in cat.directives.values() if family_id in d.families or fam.vendor in d.vendors]
        cur = views.current(ctx) if ctx.repo.import_times() else None
        counts = Counter(f.state.value for f in cur.findings if f.family == family_id) if cur else Counter()
        return {"fam": fam, "vendor": cat.vendors.get(fam.vendor), "directives": directives, "counts": counts}

    return page(request, "family.html", READERS, make)


@router.get("/directives/{directive_id}")
def directive_page(request: Request, directive_id: str) -> Response:
    def make(ctx: ServerContext, who: Principal) -> dict[str, Any]:
        cat = pipeline.catalogue()
        d = cat.directives.get(directive_id)
        if d is None:
            raise Problem(404, f"no directive {directive_id!r}")
        fams = [cat.families[f] for f in d.families if f in cat.families]
        rules = [r for r in ctx.loaded_policy().policy.rules if r.directive == directive_id]
        return {"d": d, "fams": fams, "rules": rules}

    return page(request, "directive.html", READERS, make)


@router.get("/exceptions")
def exceptions_page(request: Request) -> Response:
    def make(ctx: ServerContext, who: Principal) -> dict[str, Any]:
        today = ctx.clock().date()
        items = sorted((exception_out(e, today) for e in ctx.loaded_policy().policy.exceptions),
                       key=lambda e: e.expires)
        return {"items": items, "message": request.query_params.get("done"), "errors": [], "form": {},
                "today": today}

    return page(request, "exceptions.html", READERS, make)


def _split(value: Any) -> list[str]:
    return [p.strip() for p in str(value or "").replace("\n", ",").split(",") if p.strip()][:1000]


@router.post("/exceptions")
async def grant_exception(request: Request) -> Response:
    ctx = server(request)
    try:
        who = signed_in(request, (Role.ADMIN,))
        await check_csrf(request, who)
    except Redirect as r:
        return RedirectResponse(r.url, status_code=303)
    except Problem as p:
        return render(request, "error.html", principal_from(request, ctx), status=p.status, message_key="forbidden",
                      detail=p.detail)
    form = await request.form(max_files=0, max_fields=20)
    raw = {k: str(form.get(k, ""))[:5000] for k in ("id", "families", "approver", "reason", "expires", "devices",
                                                      "users", "groups", "safeguards")}
    errors: list[str] = []
    try:
        body = ExceptionIn(id=raw["id"].strip(), families=_split(raw["families"]), approver=raw["approver"].strip(),
                           reason=raw["reason"].strip(), expires=date.fromisoformat(raw["expires"].strip() or "x"),
                           devices=_split(raw["devices"]), users=_split(raw["users"]), groups=_split(raw["groups"]),
                           safeguards=_split(raw["safeguards"]))
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(views.grant_exception, ctx, who, body)
        return RedirectResponse("/exceptions?" + urlencode({"done": f"granted:{body.id}"}), status_code=303)
    except ValidationError as e:
        errors = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()]
    except ValueError as e:
        errors = [f"expires: {e}"]
    except Problem as p:
        errors = [p.detail + (f" ({p.fix})" if p.fix else "")]
    except InterditError as e:
        errors = [str(e)]
    today = ctx.clock().date()
    items = sorted((exception_out(e, today) for e in ctx.loaded_policy().policy.exceptions), key=lambda e: e.expires)
    return render(request, "exceptions.html", who, status=422, items=items, message=None, errors=errors, form=raw,
                  today=today)


@router.post("/exceptions/{exception_id}/revoke")
async def revoke_exception(request: Request, exception_id: str) -> Response:
    ctx = server(request)
    try:
        who = signed_in(request, (Role.ADMIN,))
        await check_csrf(request, who)
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(views.revoke_exception, ctx, who, exception_id)
    except Redirect as r:
        return RedirectResponse(r.url, status_code=303)
    except (Problem, InterditError) as e:
        detail = e.detail if isinstance(e, Problem) else str(e)
        return render(request, "error.html", principal_from(request, ctx), status=403 if isinstance(e, Problem)
                      else 422, message_key="error", detail=detail)
    return RedirectResponse("/exceptions?" + urlencode({"done": f"revoked:{exception_id}"}), status_code=303)


@router.get("/audit")
def audit_page(request: Request) -> Response:
    def make(ctx: ServerContext, who: Principal) -> dict[str, Any]:
        after = request.query_params.get("after", "0")
        start = int(after) if after.isdigit() else 0
        entries = ctx.audit.entries(after=start, limit=PAGE)
        return {"entries": entries, "check": ctx.audit.verify(),
                "next_url": f"/audit?after={entries[-1].seq}" if len(entries) == PAGE else None}

    return page(request, "audit.html", AUDIT_READERS, make)


@router.get("/sightings")
def sightings_page(request: Request) -> Response:
    def make(ctx: ServerContext, who: Principal) -> dict[str, Any]:
        family = request.query_params.get("family") or None
        rows = pipeline.sightings(ctx.repo, family=family, limit=500)
        return {"rows": rows, "family": family, "families": sorted(pipeline.catalogue().families)}

    return page(request, "sightings.html", READERS, make)


@router.get("/apks")
def apks_page(request: Request) -> Response:
    def make(ctx: ServerContext, who: Principal) -> dict[str, Any]:
        from interdit.storage.analyses import latest_analyses

        return {"rows": latest_analyses(ctx.repo.engine), "reports": [], "errors": [],
                "can_upload": who.role in (Role.ADMIN, Role.ANALYST)}

    return page(request, "apks.html", READERS, make)


@router.post("/apks")
async def upload_apks(request: Request) -> Response:
    import shutil

    from starlette.concurrency import run_in_threadpool

    from interdit.server.uploads import parse_uploads, work_dir

    ctx = server(request)
    try:
        who = signed_in(request, (Role.ADMIN, Role.ANALYST))
        folder = work_dir(ctx.options.upload_dir)
    except Redirect as r:
        return RedirectResponse(r.url, status_code=303)
    except Problem as p:
        return render(request, "error.html", principal_from(request, ctx), status=p.status, message_key="forbidden",
                      detail=p.detail)
    errors: list[str] = []
    reports: list[Any] = []
    try:
        try:  # the files stream once into the upload folder; the CSRF token is checked before they are read
            form, paths = await parse_uploads(request, folder, max_files=20)
        except Problem as p:
            return render(request, "error.html", who, status=p.status, message_key="error", detail=p.detail)
        sent = form.get(CSRF_FIELD)
        if not isinstance(sent, str) or not who.csrf or not secrets.compare_digest(sent.encode(), who.csrf.encode()):
            return render(request, "error.html", who, status=403, message_key="error",
                          detail="the form's CSRF token is missing or wrong; reload the page")
        if not paths:
            raise Problem(422, "the request carries no file")
        reports = await run_in_threadpool(partial(pipeline.analyze_apks, paths, repo=ctx.repo, lang=lang_of(request),
                                                  jobs=1, clock=ctx.clock, actor=who.actor))
        ctx.cache.forget("current", "history")
    except Problem as p:
        errors = [p.detail]
    except InterditError as e:
        errors = [str(e)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    from interdit.storage.analyses import latest_analyses

    lang = lang_of(request)
    views_ = [_report_view(r, n) for n, r in enumerate(reports, 1)]
    return render(request, "apks.html", who, status=201 if reports else 422, rows=latest_analyses(ctx.repo.engine),
                  reports=views_, errors=errors, can_upload=True, **_analysis_words(lang))


ENDPOINT_ROWS = 200  # a page shows this many of a report's endpoints (prohibited and known owners first)


def _report_view(report: Any, n: int) -> dict[str, Any]:
    """What the page shows of one analysis report: permissions grouped by what they expose ("other" last),
    endpoints of prohibited vendors and known owners first, the prohibited vendors found."""
    groups: dict[str, list[Any]] = {}
    for p in sorted(report.permissions, key=lambda p: (p.group == "other", p.group, p.name)):
        groups.setdefault(p.group, []).append(p)
    endpoints = sorted(report.endpoints, key=lambda e: (not e.prohibited, not e.owner, e.host))
    prohibited = sorted({x.vendor for x in report.sdks if x.prohibited and x.vendor}
                        | {e.owner for e in report.endpoints if e.prohibited and e.owner})
    return {"n": n, "report": report, "groups": list(groups.items()), "endpoints": endpoints[:ENDPOINT_ROWS],
            "more_endpoints": max(0, len(endpoints) - ENDPOINT_ROWS), "prohibited": prohibited}


def _analysis_words(lang: str) -> dict[str, Any]:
    """The analyzer's own words (its report's vocabulary), for the page's language."""
    w = pipeline.analysis_words(lang)
    return {"aw": w["word"], "ag": w["group"], "aprot": w["protection"], "asev": w["severity"],
            "acats": lambda cs: ", ".join(w["category"](c) for c in cs),
            "awk": lambda x: w["weakness"](x.id, x.message), "apb": lambda x: w["problem"](x.code, x.message)}
