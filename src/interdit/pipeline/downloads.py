"""Downloads (what a dashboard's buttons serve): the management report and the findings at a date, as a
file's bytes with its media type and file name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from interdit.pipeline.core import report_data
from interdit.pipeline.reports import download


def report_download(repo: Any, loaded: Any, fmt: str, lang: str, *, as_of: datetime,
                    **options: str | None) -> tuple[bytes, str, str]:
    """The management report (`html` or `pdf`) at `as_of`, as a download: (content, media type, file name)."""
    return download(fmt, report_data(repo, loaded, as_of=as_of), lang, stem="report", **options)


def findings_download(repo: Any, loaded: Any, fmt: str, lang: str, *, as_of: datetime,
                      **options: str | None) -> tuple[bytes, str, str]:
    """The findings at `as_of` (`xlsx`, `csv`, `csv-excel`, `findings-json`) as a download: (content, media
    type, file name). For `csv`, the separator defaults to `;` in French and `,` in English."""
    if fmt in ("csv", "csv-excel") and options.get("separator") is None:
        options["separator"] = ";" if lang == "fr" or fmt == "csv-excel" else ","
    data = report_data(repo, loaded, as_of=as_of, with_history=False)
    return download(fmt, data, lang, stem="findings", **options)
