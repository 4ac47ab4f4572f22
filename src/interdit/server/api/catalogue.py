"""App families, vendors and directives from the shipped catalogue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from interdit import pipeline
from interdit.server import views
from interdit.server.auth import Reader
from interdit.server.problems import PROBLEM_RESPONSES, Problem
from interdit.server.schemas import CatalogueHit, DirectiveOut, FamilyDetail, FamilyOut, plain

router = APIRouter(prefix="/api/v1", tags=["catalogue"], responses=PROBLEM_RESPONSES)


@router.get("/families", response_model=list[FamilyOut],
            summary="App families (one product across platforms and builds)")
def families(who: Reader) -> list[dict[str, Any]]:
    cat = pipeline.catalogue()
    return [plain(f) for f in sorted(cat.families.values(), key=lambda f: f.id)]


@router.get("/families/{family_id}", response_model=FamilyDetail,
            summary="One app family: identifiers, prefixes, domains, sources")
def family(family_id: str, who: Reader) -> dict[str, Any]:
    cat = pipeline.catalogue()
    found = cat.families.get(family_id)
    if found is None:
        raise Problem(404, f"no app family {family_id!r}", fix="list them with GET /api/v1/families")
    out: dict[str, Any] = plain(found)
    out["directives"] = sorted(d.id for d in cat.directives.values()
                               if family_id in d.families or found.vendor in d.vendors)
    return out


@router.get("/directives", response_model=list[DirectiveOut],
            summary="Directives (government bans) the catalogue knows")
def directives(who: Reader) -> list[dict[str, Any]]:
    cat = pipeline.catalogue()
    return [plain(d) for d in sorted(cat.directives.values(), key=lambda d: (d.effective, d.id))]


@router.get("/directives/{directive_id}", response_model=DirectiveOut,
            summary="One directive: issuer, dates, families, sources (as it stood on a day, with as_of)")
def directive(directive_id: str, who: Reader, as_of: views.AsOf = None) -> dict[str, Any]:
    cat = pipeline.catalogue()
    found = cat.directives.get(directive_id)
    if found is None:
        raise Problem(404, f"no directive {directive_id!r}", fix="list them with GET /api/v1/directives")
    when = views.as_of_param(as_of)
    return plain(found if when is None else found.as_of(when.date()))  # type: ignore[no-any-return]


@router.get("/catalogue/search", response_model=list[CatalogueHit],
            summary="Search directives, families and vendors by name")
def search(who: Reader, q: str = Query(..., min_length=1, max_length=200)) -> list[dict[str, str]]:
    return [{"kind": k, "id": i, "label": label} for k, i, label in pipeline.search_catalogue(q)]
