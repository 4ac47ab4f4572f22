"""Which encoding and which separator a text export was written with, decided from its first bytes.

Excel and the consoles of MDMs write CSV in UTF-8 (with or without a byte-order mark), in UTF-16 (Excel's
"Unicode text") or in the Windows code page of the user's locale (Windows-1252 in French Canada), with `,`, `;`
(locales whose decimal mark is a comma) or a tab between values. A reader never reads a whole file to decide:

1. a byte-order mark says it (UTF-8, UTF-16 LE/BE, UTF-32);
2. else text that decodes as UTF-8 (or whose non-ASCII characters are mostly valid UTF-8) is UTF-8. When those
   first bytes are plain ASCII there is no evidence either way, so a later line that is not UTF-8 is decoded with
   the one-byte code page the detector finds for that line;
3. else UTF-16 without a mark shows as a NUL byte beside most ASCII characters;
4. else charset-normalizer (a maintained detector) names the encoding; where it cannot tell candidates apart
   (a short sample), Windows-1252, Excel's Western default, is preferred when it reads the bytes as Western
   letters and punctuation and the detector recognised no language in a code page that reads them otherwise.

A file none of these can read, or whose decoded start is mostly control characters, is refused as not text.
"""

from __future__ import annotations

import codecs
import gzip
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import charset_normalizer

from interdit.errors import InputError
from interdit.inflate import bounded, file_size

SAMPLE = 64 * 1024  # bytes read ahead to decide
_GZIP_MAGIC = b"\x1f\x8b"
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_WESTERN = "cp1252"
SINGLE_BYTE = ("cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257", "latin_1", "iso8859_15", "mac_roman",
               "cp850")
_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "utf_8": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16 LE",
          "utf-16-be": "UTF-16 BE", "utf-32": "UTF-32", "cp1252": "Windows-1252", "cp1250": "Windows-1250",
          "latin_1": "ISO-8859-1", "iso8859_15": "ISO-8859-15", "mac_roman": "Mac Roman", "cp850": "IBM 850"}
_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
_NOT_TEXT_FIX = ("export the inventory as text (CSV in UTF-8, UTF-16 or Windows-1252); a spreadsheet file "
                 "(.xlsx) must be saved as CSV first")


def _escape(error: UnicodeError) -> tuple[str, int]:
    """Like `surrogateescape`, for every codec: each byte that cannot be decoded becomes the lone surrogate U+DC00 +
    byte (UTF-16 refuses `surrogateescape` for a lone surrogate code unit). Lines holding one are found later."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "".join(chr(0xDC00 + b) for b in error.object[error.start:error.end]), error.end


ESCAPE = "interdit.escape"
codecs.register_error(ESCAPE, _escape)


def display_name(encoding: str) -> str:
    """A person's name for a Python codec name (`cp1252` -> `Windows-1252`)."""
    return _NAMES.get(encoding.lower(), encoding)


@dataclass(frozen=True, slots=True)
class TextFormat:
    encoding: str  # the Python codec the file is decoded with
    how: str  # why: "byte-order mark", "valid UTF-8", "UTF-16 without a byte-order mark", "detected"
    ascii_start: bool = False  # the first bytes were plain ASCII: later non-UTF-8 lines are decoded by detection

    def describe(self) -> str:
        return f"{display_name(self.encoding)} ({self.how})"


def detect(sample: bytes, *, complete: bool) -> TextFormat | None:
    """The encoding of a file from its first bytes (`complete`: the sample is the whole file); None: not text."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return TextFormat(name, "byte-order mark")
    if _utf16_without_bom(sample):
        even_zero = sample[0::2].count(0) > sample[1::2].count(0)
        return TextFormat("utf-16-be" if even_zero else "utf-16-le", "UTF-16 without a byte-order mark")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        pass
    else:
        return TextFormat("utf-8", "valid UTF-8", ascii_start=sample.isascii())
    if _mostly_utf8(sample):
        return TextFormat("utf-8", "UTF-8, with some lines that are not")
    found = best_guess(sample)
    return TextFormat(found, "detected by charset-normalizer") if found else None


def best_guess(data: bytes, *, single_byte: bool = False) -> str | None:
    """charset-normalizer's encoding for `data`; among equally likely ones, Windows-1252 when it is one of them.
    `single_byte` limits the candidates to the one-byte code pages (for a single line, too short for the detector
    to tell a multi-byte Asian encoding from a Windows code page)."""
    matches = list(charset_normalizer.from_bytes(data, cp_isolation=list(SINGLE_BYTE) if single_byte else None))
    western = _western_text(data)
    if not matches:
        return _WESTERN if western else None
    best = matches[0]
    tied = [m.encoding for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    if _WESTERN in tied:
        return _WESTERN
    # On a short sample the detector often cannot name a language: "Éducation" came out as Big5, "Québec" as
    # Windows-1250, a French line as the Baltic code page 775. Text that Windows-1252 reads as Western letters
    # and punctuation is taken as Windows-1252 when the detector names no language, or when Windows-1252, or a
    # code page that reads the same text, is about as likely as its guess (within its noise margin); Czech in
    # Windows-1250, where Windows-1252 reads other letters, stays Windows-1250.
    if western and (best.coherence == 0 or any(
            m.chaos <= best.chaos + _CHAOS_MARGIN and (m.encoding == _WESTERN or _reads(data, m.encoding) == western)
            for m in matches)):
        return _WESTERN
    return best.encoding


def _reads(data: bytes, encoding: str) -> str:
    """The text another candidate reads (the detector drops candidates that read the same as one it kept)."""
    return data.decode(encoding, "replace")


_CHAOS_MARGIN = 0.05  # charset-normalizer's "chaos" (0 to 1): within this of the best, Windows-1252 is as likely
_WESTERN_EXTRA = frozenset("«»‹›“”‘’„‚–—…•€£¥§°±×÷·¼½¾¹²³ªº¡¿©®™")


def _western_text(data: bytes) -> str | None:
    """`data` read as Windows-1252 when each of its characters beyond ASCII is a letter of a Western alphabet
    (Latin-1's and Windows-1252's) or common punctuation, at most two in a row (Western words mix them with ASCII
    letters; Cyrillic, Greek or a multi-byte encoding read as Windows-1252 makes long runs); else None."""
    try:
        text = data.decode(_WESTERN)
    except UnicodeDecodeError:
        return None
    run = 0
    for c in text:
        if c < "\x80":
            run = 0
            continue
        run += 1
        if run > 2 or not (c.isalpha() or c in _WESTERN_EXTRA):
            return None
    return text


def _mostly_utf8(sample: bytes) -> bool:
    """Text whose non-ASCII characters are mostly valid UTF-8 sequences: a UTF-8 file with damaged lines (a
    legacy code page almost never forms a valid multi-byte sequence)."""
    text = sample.decode("utf-8", "surrogateescape")
    escaped = sum(1 for c in text if "\udc80" <= c <= "\udcff")
    valid = sum(1 for c in text if c >= "\x80" and not "\udc80" <= c <= "\udcff")
    return valid > 0 and valid >= escaped


def _utf16_without_bom(sample: bytes) -> bool:
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return False
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    return max(even, odd) > 0.4 * (len(sample) // 2) and min(even, odd) < 0.05 * (len(sample) // 2)


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    controls = sum(1 for c in text if c < " " and c not in "\t\n\r\f\v")
    return controls > 0.1 * len(text)


def open_detected(path: Path, *, detect_encoding: bool = True) -> tuple[IO[str], TextFormat]:
    """A text stream over `path` (gunzipped when it is gzip data) and how it is decoded. Bytes the encoding cannot
    decode come through as surrogates (`ESCAPE`), for the reader to reject line by line. Without
    `detect_encoding` (JSON, which is UTF-8 by definition) only a byte-order mark is looked for."""
    try:
        with path.open("rb") as probe:
            compressed = probe.read(2) == _GZIP_MAGIC
        raw: Any
        if compressed:  # bounded by ratio and size: a small gzip may not inflate to gigabytes
            file = path.open("rb")  # closed with the stream
            raw = bounded(gzip.GzipFile(fileobj=file, mode="rb"), compressed=file_size(file), where=str(path),
                          kind="gzip", raw=file)
        else:
            raw = path.open("rb", buffering=0)
    except OSError as exc:
        raise InputError(f"cannot open the file: {exc.strerror or exc}", where=str(path),
                         fix="check the path and its permissions") from None
    return text_stream(raw, str(path), detect_encoding=detect_encoding)


def text_stream(raw: Any, where: str, *, detect_encoding: bool = True) -> tuple[IO[str], TextFormat]:
    """`open_detected` for an open binary stream (a file, a gzip or a zip member); closes it when it refuses."""
    try:
        buffered = io.BufferedReader(raw, SAMPLE)
        sample = buffered.peek(SAMPLE)[:SAMPLE]
        complete = len(sample) < SAMPLE
    except (OSError, EOFError) as exc:
        raw.close()
        raise InputError(f"cannot read the file: {exc}", where=where,
                         fix="check that the file is complete (a .gz file may be truncated)") from None
    if detect_encoding:
        found = detect(sample, complete=complete)
    else:
        found = next((TextFormat(n, "byte-order mark") for b, n in _BOMS if sample.startswith(b)),
                     TextFormat("utf-8-sig", "JSON is UTF-8"))
    head = sample.decode(found.encoding, errors="replace") if found else ""
    if found is None or _looks_binary(head):
        raw.close()
        raise InputError("this is a binary file, not text in an encoding interdit can detect", where=where,
                         fix=_NOT_TEXT_FIX)
    encoding = "utf-8-sig" if found.encoding == "utf-8" else found.encoding
    return io.TextIOWrapper(buffered, encoding=encoding, errors=ESCAPE, newline=""), found


def line_decoder(fmt: TextFormat) -> Callable[[str], tuple[str, str] | None] | None:
    """For a file whose first bytes were plain ASCII: a function that decodes a later line which was not UTF-8
    (given with its bytes as surrogates) in the encoding charset-normalizer finds for it, or None."""
    if not fmt.ascii_start:
        return None

    def redecode(line: str) -> tuple[str, str] | None:
        try:
            data = line.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # an escaped ASCII byte (\udc00-\udc7f): not a code page's text
            return None
        found = best_guess(data, single_byte=True)
        if not found:
            return None
        try:
            return data.decode(found), found
        except (UnicodeDecodeError, LookupError):
            return None

    return redecode


def sniff_separator(header: str) -> str:
    """The separator of a CSV header line: the most frequent of `,` `;` and tab outside quotes (`,` on a tie)."""
    counts = dict.fromkeys(_SEPARATORS, 0)
    quoted = False
    for c in header:
        if c == '"':
            quoted = not quoted
        elif not quoted and c in counts:
            counts[c] += 1
    best = max(counts, key=lambda s: (counts[s], s == ","))
    return best if counts[best] else ","


def separator_name(sep: str) -> str:
    return _SEPARATORS.get(sep, repr(sep))


# -- an export cut short ------------------------------------------------------------------------------------

CUT_SHORT_REASON = ("the file ends in the middle of this row: the export looks cut short, so no device is taken "
                    "as gone and no app as removed by this snapshot")
CUT_SHORT_FIX = "export the report again in full (check the file's size, or the download), then import it"


def ends_in_newline(path: Path) -> bool | None:
    """Whether a plain file's last line is finished (UTF-8, a code page or UTF-16 of either byte order); None
    for a gzip file, whose end only reading tells (`Tail`). A copy or download that stopped leaves its last line
    unfinished; an empty file has none."""
    size = path.stat().st_size
    with path.open("rb") as raw:
        if raw.read(2) == _GZIP_MAGIC:
            return None
        raw.seek(max(0, size - 2))
        return size == 0 or raw.read().rstrip(b"\x00").endswith((b"\n", b"\r"))


class Tail:
    """The lines of a text stream, remembering the last one, to tell whether it ended mid-line (a zip member or
    a gzip stream cannot be read from its end). `Tail(None)` stands for a file already known to end mid-line."""

    def __init__(self, text: IO[str] | None) -> None:
        self.text = text
        self.last = ""

    def __iter__(self) -> Iterator[str]:
        assert self.text is not None
        for line in self.text:
            self.last = line
            yield line

    def readline(self) -> str:
        assert self.text is not None
        self.last = self.text.readline()
        return self.last

    def cut(self) -> bool:
        return self.text is None or not self.last.endswith(("\n", "\r"))

