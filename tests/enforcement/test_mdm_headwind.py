"""`headwind`: configuration applications with action 2 (golden files, JSON Schema)."""

from __future__ import annotations

from mdm_request import HEADWIND, request, validate

from interdit.enforcement.base import targets


def test_remove_and_hide() -> None:
    payload = targets.get("headwind")().build(request())
    apps = validate(payload.files["configuration-applications.json"], HEADWIND)
    assert {a["action"] for a in apps} == {2} and len(apps) == 4
    hidden = validate(targets.get("headwind")().build(request(options={"action": "hide"}))
                      .files["configuration-applications.json"], HEADWIND)
    assert {a["action"] for a in hidden} == {0}
