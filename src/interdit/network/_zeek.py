"""What Zeek's TSV and JSON logs share: the `#fields` header, unset and empty values, vectors."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from interdit.network.base import Event, LineError, LineReader, TabularReader, epoch, iso, json_object, text

UNSET = "-"
EMPTY = "(empty)"


class ZeekTsv(LineReader):
    """A Zeek ASCII log: column positions come from the `#fields` line, never hard-coded."""

    path_name: ClassVar[str]  # "dns" or "ssl"
    name_field: ClassVar[str]  # "query" or "server_name"
    answers_field: ClassVar[str | None] = None
    client_field: ClassVar[str] = "id.orig_h"
    time_field: ClassVar[str] = "ts"
    header: ClassVar[bytes] = b"#fields"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.columns: dict[str, int] = {}
        self.width = 0
        self.sep = "\t"

    def tabular(self) -> TabularReader:
        return self

    def sniff(self, line: bytes) -> bool:
        if line.startswith(b"#path"):
            return line.split()[-1:] == [self.path_name.encode()]
        if line.startswith(b"#fields"):
            return self.name_field.encode() in line.split(b"\t")
        return False

    def start(self, head: list[bytes]) -> None:
        for line in head:
            if line.startswith(b"#fields"):
                self._fields(line)

    def _fields(self, line: bytes) -> None:
        names = line.decode("utf-8", "replace").rstrip("\r\n").split(self.sep)[1:]
        self.columns = {n: i for i, n in enumerate(names)}
        self.width = len(names)

    def state(self) -> dict[str, object]:
        return {"columns": self.columns, "width": self.width}

    def restore(self, state: dict[str, object]) -> None:
        self.columns = dict(state["columns"])  # type: ignore[call-overload]
        self.width = int(state["width"])  # type: ignore[call-overload]

    def parse(self, line: bytes) -> Event | None:
        if line.startswith(b"#"):
            if line.startswith(b"#fields"):
                self._fields(line)
            return None
        if not self.columns:
            raise LineError("a data line before any #fields header")
        parts = text(line).rstrip("\r").split(self.sep)
        if len(parts) != self.width:
            raise LineError(f"{len(parts)} columns where the #fields header has {self.width}")
        try:
            name = parts[self.columns[self.name_field]]
            client = parts[self.columns[self.client_field]]
            stamp = parts[self.columns[self.time_field]]
        except KeyError as e:
            raise LineError(f"the #fields header has no {e.args[0]} column") from None
        if name in (UNSET, EMPTY):
            return None
        answers: tuple[str, ...] = ()
        col = self.columns.get(self.answers_field or "")
        if col is not None and parts[col] not in (UNSET, EMPTY):
            answers = tuple(parts[col].split(","))
        qtype = parts[self.columns["qtype_name"]] if "qtype_name" in self.columns else ""
        rcode = parts[self.columns["rcode_name"]] if "rcode_name" in self.columns else ""
        return Event(name, client, stamp, self.kind, qtype, rcode, answers)

    def when(self, stamp: str) -> datetime:
        return epoch(stamp)


class ZeekJson(LineReader):
    """A Zeek JSON log (one object a line; dotted keys are literal; unset fields are left out)."""

    path_name: ClassVar[str]
    name_field: ClassVar[str]
    marker_fields: ClassVar[tuple[str, ...]]  # fields only this log has
    answers_field: ClassVar[str | None] = None

    def sniff(self, line: bytes) -> bool:
        if not line.startswith(b"{") or b'"id.orig_h"' not in line:
            return False
        if b'"_path"' in line:
            return f'"_path":"{self.path_name}"'.encode() in line.replace(b" ", b"")
        return any(f'"{f}"'.encode() in line for f in self.marker_fields)

    def parse(self, line: bytes) -> Event | None:
        obj = json_object(line)
        if obj is None:
            return None
        name = obj.get(self.name_field)
        if name is None or name == "":
            return None  # no SNI, or no query
        client, stamp = obj.get("id.orig_h"), obj.get("ts")
        if not isinstance(name, str) or not isinstance(client, str) or stamp is None:
            raise LineError(f"record without a text {self.name_field}, id.orig_h or ts")
        answers: tuple[str, ...] = ()
        raw = obj.get(self.answers_field) if self.answers_field else None
        if isinstance(raw, list):
            answers = tuple(a for a in raw if isinstance(a, str))
        return Event(name, client, str(stamp), self.kind, str(obj.get("qtype_name", "")),
                     str(obj.get("rcode_name", "")), answers)

    def when(self, stamp: str) -> datetime:
        return epoch(stamp) if stamp.replace(".", "", 1).isdigit() else iso(stamp)
