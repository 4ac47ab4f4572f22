"""The policy: read it, replace it (validated, with a diff), and grant or revoke exceptions in it.

Every change is written back to the policy file with its comments kept, validated first, and recorded in
the audit trail with the text before and after.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from interdit import pipeline
from interdit.server import views
from interdit.server.auth import Admin, Reader
from interdit.server.context import Ctx
from interdit.server.problems import PROBLEM_RESPONSES, Problem
from interdit.server.schemas import (
    ExceptionIn,
    ExceptionOut,
    PolicyChange,
    PolicyIn,
    PolicyOut,
    exception_out,
    plain,
)

router = APIRouter(prefix="/api/v1", tags=["policy"], responses=PROBLEM_RESPONSES)


@router.get("/policy", response_model=PolicyOut, summary="The policy file and what it means")
def get_policy(ctx: Ctx, who: Reader) -> PolicyOut:
    loaded = ctx.loaded_policy()
    today = ctx.clock().date()
    return PolicyOut(organisation=loaded.policy.organisation, digest=loaded.digest,
                     text=ctx.settings.policy_path.read_text(encoding="utf-8"),
                     rules=[plain(r) for r in loaded.policy.rules],
                     exceptions=[exception_out(e, today) for e in loaded.policy.exceptions])


@router.put("/policy", response_model=PolicyChange, summary="Replace the policy (validated; dry_run shows the diff)")
def put_policy(body: PolicyIn, ctx: Ctx, who: Admin,
               dry_run: Annotated[bool, Query(description="Validate and diff without saving.")] = False
               ) -> PolicyChange:
    path = ctx.settings.policy_path
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    if dry_run:
        loaded = pipeline.validate_policy_text(body.text, path)
        return PolicyChange(saved=False, digest=loaded.digest, diff=pipeline.policy_diff(before, body.text, path.name))
    before, loaded = pipeline.save_policy_text(path, body.text, actor=who.actor, audit=ctx.audit)
    diff = pipeline.policy_diff(before, body.text, path.name)
    ctx.cache.forget("policy", "current", "history")
    return PolicyChange(saved=True, digest=loaded.digest, diff=diff)


@router.post("/policy/check", response_model=PolicyChange, summary="Validate a policy text without saving it")
def check_policy(body: PolicyIn, ctx: Ctx, who: Reader) -> PolicyChange:
    path = ctx.settings.policy_path
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    loaded = pipeline.validate_policy_text(body.text, path)
    return PolicyChange(saved=False, digest=loaded.digest, diff=pipeline.policy_diff(before, body.text, path.name))


@router.get("/exceptions", response_model=list[ExceptionOut], summary="Approved exceptions, with days to expiry")
def list_exceptions(ctx: Ctx, who: Reader) -> list[ExceptionOut]:
    today = ctx.clock().date()
    return sorted((exception_out(e, today) for e in ctx.loaded_policy().policy.exceptions), key=lambda e: e.expires)


@router.post("/exceptions", response_model=ExceptionOut, status_code=201,
             summary="Grant an exception (approver, reason, expiry, safeguards), written into the policy")
def create_exception(body: ExceptionIn, ctx: Ctx, who: Admin) -> ExceptionOut:
    return views.grant_exception(ctx, who, body)


@router.delete("/exceptions/{exception_id}", status_code=204, summary="Revoke an exception (removed from the policy)")
def delete_exception(exception_id: str, ctx: Ctx, who: Admin) -> None:
    if not any(e.id == exception_id for e in ctx.loaded_policy().policy.exceptions):
        raise Problem(404, f"no exception {exception_id!r}", fix="list them with GET /api/v1/exceptions")
    views.revoke_exception(ctx, who, exception_id)
