"""Request bodies are bounded: uploads stream to disk up to a limit, and 413 beyond it."""

from __future__ import annotations

import errno
import re
import tempfile
from pathlib import Path

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interdit.server.problems import Problem, problem_response

UPLOAD_PREFIXES = ("/api/v1/imports", "/api/v1/analyses", "/api/v1/logs", "/apk")
SMALL_BODY = 4 * 1024 * 1024  # every other request: policy texts, forms, JSON
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit:,} bytes")
        self.limit = limit


class BodyLimit:
    """ASGI middleware: refuse a body over the limit, by its Content-Length or while it streams in."""

    def __init__(self, app: ASGIApp, max_upload: int) -> None:
        self.app = app
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.max_upload if path.startswith(UPLOAD_PREFIXES) else SMALL_BODY
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    response = problem_response(413, f"the request body is larger than {limit:,} bytes",
                                                instance=path, fix="send a smaller file or split it")
                    await response(scope, receive, send)
                    return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


# the OpenAPI description of an upload: multipart, one or more files in the field `files`
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
    "required": ["files"]}}}}}


NAME_MAX = 100  # characters kept of an uploaded file's name (its end, with the extensions, is kept)


def safe_name(filename: str, n: int) -> str:
    """A file name made of [A-Za-z0-9._-], at most NAME_MAX characters, never empty, `.` or `..`."""
    name = _SAFE.sub("_", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip("._") or f"upload-{n}"
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        tail = (dot + ext) if stem and len(ext) <= 10 else ""
        gz = name.endswith((".gz", ".bz2", ".zst")) and "." in stem
        if gz:  # keep ".csv.gz"
            inner = stem.rpartition(".")[2]
            tail = "." + inner[:10] + tail if len(inner) <= 10 else tail
        name = name[: NAME_MAX - len(tail)].rstrip("._") + tail
    return name


class _ToFolder(MultiPartParser):
    """Starlette's multipart parser, writing each file part straight into the upload folder (never /tmp)."""

    def __init__(self, request: Request, dest: Path, *, max_files: int) -> None:
        super().__init__(request.headers, request.stream(), max_files=max_files, max_fields=50)
        self.dest = dest
        self.paths: list[Path] = []

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        upload = self._current_part.file
        if upload is None:
            return
        n = len(self.paths)
        name = safe_name(upload.filename or "", n)
        target = self.dest / name
        if target.exists() or target in self.paths:
            target = self.dest / f"{n}-{name}"
        upload.file.close()  # the empty in-memory spool the parser made
        upload.file = target.open("w+b")
        self._files_to_close_on_error.append(upload.file)  # type: ignore[arg-type]
        self.paths.append(target)


async def save_uploads(request: Request, dest: Path, *, max_files: int = 20) -> list[Path]:
    """Stream every file part of a multipart body into `dest` (already created), once.

    413 when over the limit, 400 for a body that is not multipart, 507 when the upload folder is full."""
    _, paths = await parse_uploads(request, dest, max_files=max_files)
    if not paths:
        raise Problem(422, "the request carries no file", fix="send the files as multipart/form-data parts named files")
    return paths


async def parse_uploads(request: Request, dest: Path, *, max_files: int = 20) -> tuple[FormData, list[Path]]:
    """The form's fields, and its files streamed into `dest` (see `save_uploads`)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Problem(422, "the request carries no file: send the files as multipart/form-data",
                      fix="send the files as multipart/form-data parts named files (curl -F files=@FILE)")
    parser = _ToFolder(request, dest, max_files=max_files)
    try:
        form = await parser.parse()
    except BodyTooLarge as e:
        raise Problem(413, str(e), fix="send a smaller file or split it") from None
    except MultiPartException as e:
        raise Problem(400, f"the multipart body cannot be read: {e.message}",
                      fix="send the files as multipart/form-data parts named files") from None
    except OSError as e:
        raise full_folder(e) from None
    for _, value in form.multi_items():
        if isinstance(value, UploadFile):
            await value.close()
    return form, parser.paths


def full_folder(error: OSError) -> Problem:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return Problem(507, "the server's upload folder is full",
                       fix="retry later; the operator frees space in INTERDIT_UPLOAD_DIR or points it elsewhere")
    return Problem(503, "the server could not write the upload to its folder",
                   fix="retry later; the operator checks INTERDIT_UPLOAD_DIR")


def work_dir(base: Path | None) -> Path:
    """A new folder for one request's uploads, in INTERDIT_UPLOAD_DIR (else the system's temporary folder)."""
    try:
        if base is not None:
            base.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="interdit-upload-", dir=base))
    except OSError as e:
        raise full_folder(e) from None
