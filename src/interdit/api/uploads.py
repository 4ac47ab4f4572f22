"""Request bodies are bounded: uploads stream to disk up to a limit, and 413 beyond it."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interdit.api.problems import Problem, problem_response

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


async def save_uploads(request: Request, dest: Path, *, max_files: int = 20) -> list[Path]:
    """Save every file part of a multipart body into `dest` (already created); 413 when over the limit."""
    try:
        form = await request.form(max_files=max_files, max_fields=50)
    except BodyTooLarge as e:
        raise Problem(413, str(e), fix="send a smaller file or split it") from None
    paths: list[Path] = []
    for n, (_, value) in enumerate(form.multi_items()):
        if not isinstance(value, UploadFile):
            continue
        name = _SAFE.sub("_", Path(value.filename or "").name).strip("._") or f"upload-{n}"
        target = dest / name
        if target.exists():
            target = dest / f"{n}-{name}"
        with target.open("wb") as fh:
            await value.seek(0)
            shutil.copyfileobj(value.file, fh, 1024 * 1024)
        await value.close()
        paths.append(target)
    if not paths:
        raise Problem(422, "the request carries no file", fix="send the files as multipart/form-data parts named files")
    return paths


def work_dir(base: Path | None) -> Path:
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="interdit-upload-", dir=base))
