"""Golden files: an output compared byte for byte with a file kept beside the tests.

When an output changes on purpose, run the tests with `INTERDIT_UPDATE_GOLDEN=1`: the files are rewritten, and
the diff is read before it is kept. A missing golden file fails the test (it is never created silently), so a
new component fails until its golden file exists and has been looked at.
"""

from __future__ import annotations

import os
from pathlib import Path

from interdit.enforcement.base import Payload

UPDATE = "INTERDIT_UPDATE_GOLDEN"


def updating() -> bool:
    """Whether this run rewrites the golden files (INTERDIT_UPDATE_GOLDEN=1)."""
    return os.environ.get(UPDATE) == "1"


def check_golden(path: Path, content: str | bytes) -> None:
    """Assert that `content` is what `path` holds (text as UTF-8); rewrite `path` instead when updating."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"no golden file {path}: run with {UPDATE}=1, then review it"
    assert path.read_bytes() == data, f"{path.name} differs from its golden file {path} ({UPDATE}=1 to accept)"


def check_payload(payload: Payload, folder: Path, *, caveats: bool = True) -> None:
    """Assert that every file of an enforcement payload is its golden file in `folder`, and (with `caveats`)
    that its caveats are `folder/CAVEATS.txt`, one a line."""
    for name, content in payload.files.items():
        check_golden(folder / name, content)
    if caveats:
        check_golden(folder / "CAVEATS.txt", "\n".join(payload.caveats) + "\n")
