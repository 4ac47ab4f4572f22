"""Where the shared test data lives: ../shared beside the checkout, or $INTERDIT_SHARED when set (a worktree
elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("INTERDIT_SHARED") or Path(__file__).resolve().parents[3] / "shared")
