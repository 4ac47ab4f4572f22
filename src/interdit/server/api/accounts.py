"""Accounts and API tokens (administrators only). Token secrets are shown once, in the creating answer."""

from __future__ import annotations

from fastapi import APIRouter

from interdit.server.auth import Admin
from interdit.server.context import Ctx
from interdit.server.problems import PROBLEM_RESPONSES, Problem
from interdit.server.schemas import AccountIn, AccountOut, NewToken, PasswordIn, TokenIn, TokenOut
from interdit.storage.accounts import Account, TokenInfo, parse_scopes

router = APIRouter(prefix="/api/v1", tags=["accounts"], responses=PROBLEM_RESPONSES)


def account_out(a: Account) -> AccountOut:
    return AccountOut(username=a.username, role=a.role.value, disabled=a.disabled, created_at=a.created_at,
                      has_password=a.has_password, oidc=a.via_oidc)


def token_out(t: TokenInfo) -> TokenOut:
    return TokenOut(id=t.id, username=t.username, name=t.name, created_at=t.created_at, revoked_at=t.revoked_at,
                    sources=list(t.scopes))


@router.get("/users", response_model=list[AccountOut], summary="Accounts and their roles")
def list_users(ctx: Ctx, who: Admin) -> list[AccountOut]:
    return [account_out(a) for a in ctx.accounts.all()]


@router.post("/users", response_model=AccountOut, status_code=201, summary="Create an account")
def add_user(body: AccountIn, ctx: Ctx, who: Admin) -> AccountOut:
    made = ctx.accounts.add(body.username, body.role, body.password, audit=ctx.recorder(
        who, "account.add", body.username.strip(),
        lambda a: (None, {"role": a.role.value, "password": a.has_password})))
    return account_out(made)


@router.post("/users/{username}/disable", response_model=AccountOut, summary="Disable an account (and its tokens)")
def disable_user(username: str, ctx: Ctx, who: Admin) -> AccountOut:
    before = ctx.accounts.get(username)
    if before is None:
        raise Problem(404, f"no user named {username!r}")
    if before.username == who.account.username:
        raise Problem(409, "you cannot disable your own account", fix="ask another administrator")
    after = ctx.accounts.set_disabled(username, True, audit=ctx.recorder(
        who, "account.disable", username, lambda _: ({"disabled": before.disabled}, {"disabled": True})))
    ctx.credentials.forget()
    return account_out(after)


@router.post("/users/{username}/password", status_code=204,
             summary="Set an account's password; every session of the account ends")
def set_password(username: str, body: PasswordIn, ctx: Ctx, who: Admin) -> None:
    account = ctx.accounts.get(username)
    if account is None:
        raise Problem(404, f"no user named {username!r}", fix="list them with GET /api/v1/users")
    ctx.accounts.set_password(username, body.password, audit=ctx.recorder(
        who, "account.password", username, lambda _: (None, {"sessions": "ended"})))
    ctx.credentials.forget()


@router.get("/tokens", response_model=list[TokenOut], summary="API tokens (never their secrets)")
def list_tokens(ctx: Ctx, who: Admin) -> list[TokenOut]:
    return [token_out(t) for t in ctx.accounts.tokens()]


@router.post("/tokens", response_model=NewToken, status_code=201,
             summary="Create an API token for an account; the secret is in this answer only")
def create_token(body: TokenIn, ctx: Ctx, who: Admin) -> NewToken:
    if ctx.accounts.get(body.username) is None:
        raise Problem(404, f"no user named {body.username!r}", fix="create the account first")
    scopes = parse_scopes(body.sources, logs=body.logs)
    info, secret = ctx.accounts.create_token(body.username, body.name, scopes=scopes, audit=ctx.recorder(
        who, "token.create", lambda t: str(t.id),
        lambda t: (None, {"user": t.username, "name": t.name, "scopes": list(t.scopes)})))
    return NewToken(**token_out(info).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke an API token")
def revoke_token(token_id: str, ctx: Ctx, who: Admin) -> None:
    if not any(t.id == token_id and t.revoked_at is None for t in ctx.accounts.tokens()):
        raise Problem(404, f"no active token {token_id!r}")
    ctx.accounts.revoke_token(token_id, audit=ctx.recorder(
        who, "token.revoke", token_id, lambda t: ({"user": t.username, "name": t.name},
                                                  {"revoked_at": t.revoked_at.isoformat() if t.revoked_at else None})))
    ctx.credentials.forget()
