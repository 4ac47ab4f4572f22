"""Golden files for every registered enforcement target, found from the registry: a new target fails here until
its golden files exist (tests/enforcement/golden/<name>/ for a DNS or proxy target, golden/mdm-<name>/ with its
CAVEATS.txt and CAVEATS.fr.txt, its caveats in English and French, for an MDM target).

Regenerate them after an intended change, and read the diff before keeping it:
    INTERDIT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -p no:xdist tests/enforcement/test_golden.py
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from interdit.enforcement import TARGET_KINDS, targets
from interdit.testing import check_golden, check_payload, request_for

GOLDEN = Path(__file__).parent / "golden"


def folder(name: str, kind: str) -> Path:
    return GOLDEN / (f"mdm-{name}" if kind == "mdm" else name)


@pytest.mark.parametrize("name", targets.names())
def test_golden(name: str) -> None:
    target = targets.get(name)
    assert target.kind in TARGET_KINDS, f"{name} declares kind {target.kind!r}, not one of {TARGET_KINDS}"
    payload = target().build(request_for(target.kind))
    assert payload.target == name and payload.files
    check_payload(payload, folder(name, target.kind), caveats=target.kind == "mdm")
    if target.kind == "mdm":  # the same caveats for a French reader, from the French catalogue
        french = target().build(replace(request_for(target.kind), lang="fr"))
        assert french.files == payload.files  # a generated file has no reader's language
        check_golden(folder(name, target.kind) / "CAVEATS.fr.txt", "\n".join(french.caveats) + "\n")


def test_no_golden_folder_outlives_its_target() -> None:
    expected = {folder(name, target.kind).name for name, target in targets.items()}
    assert {p.name for p in GOLDEN.iterdir() if p.is_dir()} == expected
