"""Golden files: every registered report format in both languages, from the fixed data of
`interdit.testing.report_data`. The formats come from the registry, and each golden file is named by the format's
declared `extension`, so a new format fails here until its golden files exist.

When an output changes on purpose, regenerate the files and read the diff before keeping it:

    INTERDIT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/reporting/test_reporting_golden.py
"""

from __future__ import annotations

from pathlib import Path

import pytest

from interdit.reporting import formats
from interdit.testing import check_golden, report_data

GOLDEN = Path(__file__).parent / "golden"


def _text(fmt: str) -> bool:
    media = formats.get(fmt).media_type
    return media.startswith("text/") or "json" in media


# the formats that write a file rather than text (PDF, XLSX: their media type says so) have their own tests
# (test_reporting_files.py): a PDF or a workbook is checked by reading it back, not byte for byte
CASES = [(fmt, lang) for fmt in formats.names() if _text(fmt) for lang in ("en", "fr")]


def golden_file(fmt: str, lang: str) -> Path:
    return GOLDEN / f"{fmt}.{lang}.{formats.get(fmt).extension}"


@pytest.mark.parametrize("fmt,lang", CASES, ids=[f"{f}-{lang}" for f, lang in CASES])
def test_golden(fmt: str, lang: str) -> None:
    check_golden(golden_file(fmt, lang), formats.get(fmt)().render(report_data(), lang))


def test_no_golden_file_outlives_its_format() -> None:
    expected = {golden_file(fmt, lang).name for fmt, lang in CASES}
    assert {p.name for p in GOLDEN.iterdir()} == expected
