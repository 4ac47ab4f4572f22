"""Golden files: every report format in both languages, from the fixed data in builders.py.

When an output changes on purpose, regenerate the files and read the diff before keeping it:

    INTERDIT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/reporting/test_reporting_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from interdit.reporting.base import formats
from reporting.builders import report_data

GOLDEN = Path(__file__).parent / "golden"
EXTENSIONS = {"table": "txt", "json": "json", "findings-table": "txt", "findings-json": "json", "csv": "csv",
              "csv-excel": "csv",
              "html": "html"}
# the formats that write a file rather than text have their own tests (test_reporting_files.py)
BINARY = {"pdf", "xlsx"}
CASES = [(fmt, lang) for fmt in sorted(EXTENSIONS) for lang in ("en", "fr")]


def test_every_registered_format_has_golden_files() -> None:
    assert set(formats.names()) - BINARY == set(EXTENSIONS)


@pytest.mark.parametrize("fmt,lang", CASES, ids=[f"{f}-{lang}" for f, lang in CASES])
def test_golden(fmt: str, lang: str) -> None:
    text = formats.get(fmt)().render(report_data(), lang)
    path = GOLDEN / f"{fmt}.{lang}.{EXTENSIONS[fmt]}"
    if os.environ.get("INTERDIT_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"{path.name} is missing: run with INTERDIT_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_bytes().decode("utf-8"), f"{path.name} changed: review, then regenerate"
