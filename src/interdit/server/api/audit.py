"""The audit trail: read it, verify its hash chain, export it (administrators and auditors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from interdit.server.auth import AuditReader
from interdit.server.context import Ctx
from interdit.server.problems import PROBLEM_RESPONSES, Problem
from interdit.server.schemas import AuditEntryOut, AuditVerifyOut

router = APIRouter(prefix="/api/v1", tags=["audit"], responses=PROBLEM_RESPONSES)


@router.get("/audit", response_model=list[AuditEntryOut], summary="Audit entries after a sequence number")
def list_audit(ctx: Ctx, who: AuditReader,
               after: Annotated[int, Query(ge=0, le=2**62)] = 0,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               actor: Annotated[str | None, Query(max_length=160)] = None,
               action: Annotated[str | None, Query(max_length=80)] = None) -> list[AuditEntryOut]:
    return [AuditEntryOut(**e.as_dict()) for e in ctx.audit.entries(after=after, limit=limit, actor=actor,
                                                                      action=action)]


@router.get("/audit/verify", response_model=AuditVerifyOut, summary="Recompute the hash chain; name the broken entry")
def verify_audit(ctx: Ctx, who: AuditReader,
                 checkpoint: Annotated[str | None, Query(
                     pattern="^[1-9][0-9]{0,17}:[0-9a-fA-F]{64}$",
                     description="ENTRY:HASH kept from an earlier verification: the trail must still reach that "
                                 "entry with that hash (nothing rewritten, nothing cut off the end)")] = None,
                 ) -> AuditVerifyOut:
    from interdit.storage.audit import parse_checkpoint

    try:
        kept = parse_checkpoint(checkpoint) if checkpoint else None
    except ValueError as e:
        raise Problem(422, str(e), fix="pass ENTRY:HASH as 'interdit audit verify' printed it") from None
    v = ctx.audit.verify(kept)
    return AuditVerifyOut(ok=v.ok, entries=v.entries, head=v.head, broken_at=v.broken_at, reason=v.reason)


@router.get("/audit/export", summary="The whole trail as JSON lines (one entry a line, with its hashes)",
            response_class=StreamingResponse, responses={200: {"description": "One JSON audit entry a line",
                                            "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}})
def export_audit(ctx: Ctx, who: AuditReader) -> StreamingResponse:
    return StreamingResponse(ctx.audit.export_jsonl(), media_type="application/x-ndjson",
                             headers={"Content-Disposition": 'attachment; filename="interdit-audit.jsonl"'})
