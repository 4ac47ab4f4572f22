"""Reports as files: any format as bytes with its media type and file name (what a download button serves),
and the trend read from the stored daily figures (see `interdit.storage.daily`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from interdit.errors import ConfigError
from interdit.reporting.base import ReportData, formats

# the file name's extension for each built-in format (a format may declare its own `extension`)
EXTENSIONS = {"html": "html", "pdf": "pdf", "xlsx": "xlsx", "csv": "csv", "csv-excel": "csv", "json": "json",
              "findings-json": "json", "table": "txt", "findings-table": "txt"}


def made_format(fmt: str, *, width: int | None = None, **options: str | None) -> Any:
    """An instance of the format `fmt` with its options set: `width` (terminal columns) for the formats laid
    out for a terminal, and any option the format declares as an attribute (`separator`, `paper`). An option
    the format does not take is a ConfigError naming it."""
    made = formats.get(fmt)()
    if width is not None and hasattr(made, "width"):
        made.width = max(int(width), 40)
    for name, value in options.items():
        if value is None:
            continue
        if not hasattr(made, name):
            raise ConfigError(f"the {fmt} format takes no {name} option", where=f"--{name}",
                              fix=f"leave --{name} out with --format {fmt}")
        setattr(made, name, value)
    return made


def render_bytes(fmt: str, data: ReportData, lang: str, **options: str | None) -> bytes:
    """`data` in the format `fmt` as the bytes of a file: UTF-8 for the text formats."""
    made = made_format(fmt, width=None, **options)
    out = made.render(data, lang)
    return out.encode("utf-8") if isinstance(out, str) else bytes(out)


def file_name(fmt: str, data: ReportData, stem: str = "report") -> str:
    """e.g. `report-2023-03-15.pdf`: what a browser saves the download as."""
    made = formats.get(fmt)
    ext = getattr(made, "extension", None) or EXTENSIONS.get(fmt, "txt")
    return f"{stem}-{data.as_of.date().isoformat()}.{ext}"


def download(fmt: str, data: ReportData, lang: str, *, stem: str = "report",
             **options: str | None) -> tuple[bytes, str, str]:
    """(content, media type, file name) of `data` in the format `fmt`: what a download button serves, e.g.

        content, media_type, name = download("pdf", report_data(...), "fr", paper="letter")
        Response(content, media_type=media_type,
                 headers={"Content-Disposition": f'attachment; filename="{name}"'})
    """
    content = render_bytes(fmt, data, lang, **options)
    return content, str(formats.get(fmt).media_type), file_name(fmt, data, stem)


def report_download(repo: Any, loaded: Any, fmt: str, lang: str, *, as_of: datetime,
                    **options: str | None) -> tuple[bytes, str, str]:
    """The management report (`html` or `pdf`) at `as_of`, as a download: (content, media type, file name)."""
    from interdit.pipeline.core import report_data

    return download(fmt, report_data(repo, loaded, as_of=as_of), lang, stem="report", **options)


def findings_download(repo: Any, loaded: Any, fmt: str, lang: str, *, as_of: datetime,
                      **options: str | None) -> tuple[bytes, str, str]:
    """The findings at `as_of` (`xlsx`, `csv`, `csv-excel`, `findings-json`) as a download: (content, media
    type, file name). For `csv`, the separator defaults to `;` in French and `,` in English."""
    from interdit.pipeline.core import report_data

    if fmt in ("csv", "csv-excel") and options.get("separator") is None:
        options["separator"] = ";" if lang == "fr" or fmt == "csv-excel" else ","
    data = report_data(repo, loaded, as_of=as_of, with_history=False)
    return download(fmt, data, lang, stem="findings", **options)
