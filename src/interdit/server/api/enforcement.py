"""Enforcement: the targets, and the blocking payload for one of them built from the policy."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from interdit import pipeline
from interdit.errors import OptionError
from interdit.server.auth import Admin, Reader
from interdit.server.context import Ctx
from interdit.server.problems import PROBLEM_RESPONSES, Problem
from interdit.server.schemas import EnforcementPayloadOut, EnforcementTargetOut

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)


@router.get("/enforcement/targets", response_model=list[EnforcementTargetOut], tags=["enforcement"],
            summary="Enforcement targets (DNS, proxy, MDM)")
def enforcement_targets(who: Reader) -> list[dict[str, str]]:
    return [{"name": n, "summary": s} for n, s in pipeline.enforcement_targets()]


@router.post("/enforcement/{target}", response_model=EnforcementPayloadOut, tags=["enforcement"],
             summary="Build the blocking payload for one target from the policy (recorded in the audit trail)")
def enforcement_payload(target: str, ctx: Ctx, who: Admin, options: Annotated[dict[str, str] | None, Body(
        embed=True, description="The target's options (as `--option KEY=VALUE`), e.g. {\"policy\": \"sinkhole\"}; "
                                "an unknown, ill-typed or inapplicable one answers 422")] = None,
        lang: Annotated[str, Query(pattern="^(en|fr)$", description="The language of the caveats and of an "
                                                                    "option's refusal")] = "en") -> dict[str, Any]:
    if target not in {n for n, _ in pipeline.enforcement_targets()}:
        raise Problem(404, f"no enforcement target {target!r}", fix="list them with GET /api/v1/enforcement/targets")
    request = pipeline.enforcement_request(ctx.loaded_policy(), now=ctx.clock(), options=options, lang=lang)
    try:
        payload = pipeline.enforce(target, request, actor=who.actor, audit=ctx.audit)
    except OptionError as e:
        raise Problem(422, e.message, fix=e.fix) from None
    files = {name: (content if isinstance(content, str) else base64.b64encode(content).decode("ascii"))
             for name, content in payload.files.items()}
    return {"target": payload.target, "media_type": payload.media_type, "caveats": list(payload.caveats),
            "files": files, "binary": sorted(n for n, c in payload.files.items() if not isinstance(c, str))}
