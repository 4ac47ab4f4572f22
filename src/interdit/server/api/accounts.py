"""Accounts and API tokens (administrators only). Token secrets are shown once, in the creating answer.

The rules and the audit entries are the pipeline's (`pipeline/accounts.py`), shared with the command line."""

from __future__ import annotations

from fastapi import APIRouter

from interdit.pipeline import accounts as use
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


def _refused(error: use.UnknownAccount | use.AccountConflict, fix: str | None = None) -> Problem:
    status = 404 if isinstance(error, use.UnknownAccount) else 409
    return Problem(status, error.message, fix=fix or error.fix)


@router.get("/users", response_model=list[AccountOut], summary="Accounts and their roles")
def list_users(ctx: Ctx, who: Admin) -> list[AccountOut]:
    return [account_out(a) for a in ctx.accounts.all()]


@router.post("/users", response_model=AccountOut, status_code=201, summary="Create an account")
def add_user(body: AccountIn, ctx: Ctx, who: Admin) -> AccountOut:
    return account_out(use.add_account(ctx.accounts, ctx.trail, who.actor, body.username, body.role, body.password))


@router.post("/users/{username}/disable", response_model=AccountOut, summary="Disable an account (and its tokens)")
def disable_user(username: str, ctx: Ctx, who: Admin) -> AccountOut:
    try:
        after = use.disable_account(ctx.accounts, ctx.trail, who.actor, username, caller=who.account.username)
    except (use.UnknownAccount, use.AccountConflict) as e:
        raise _refused(e, "list them with GET /api/v1/users" if isinstance(e, use.UnknownAccount) else None) from None
    ctx.credentials.forget()
    return account_out(after)


@router.post("/users/{username}/password", status_code=204,
             summary="Set an account's password; every session of the account ends")
def set_password(username: str, body: PasswordIn, ctx: Ctx, who: Admin) -> None:
    try:
        use.set_password(ctx.accounts, ctx.trail, who.actor, username, body.password)
    except use.UnknownAccount as e:
        raise _refused(e, "list them with GET /api/v1/users") from None
    ctx.credentials.forget()


@router.get("/tokens", response_model=list[TokenOut], summary="API tokens (never their secrets)")
def list_tokens(ctx: Ctx, who: Admin) -> list[TokenOut]:
    return [token_out(t) for t in ctx.accounts.tokens()]


@router.post("/tokens", response_model=NewToken, status_code=201,
             summary="Create an API token for an account; the secret is in this answer only")
def create_token(body: TokenIn, ctx: Ctx, who: Admin) -> NewToken:
    scopes = parse_scopes(body.sources, logs=body.logs)
    try:
        info, secret = use.create_token(ctx.accounts, ctx.trail, who.actor, body.username, body.name, scopes)
    except use.UnknownAccount as e:
        raise _refused(e, "create the account first") from None
    return NewToken(**token_out(info).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke an API token")
def revoke_token(token_id: str, ctx: Ctx, who: Admin) -> None:
    try:
        use.revoke_token(ctx.accounts, ctx.trail, who.actor, token_id)
    except use.UnknownAccount as e:
        raise _refused(e, "list them with GET /api/v1/tokens") from None
    ctx.credentials.forget()
