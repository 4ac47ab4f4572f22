"""The signed update channel: a catalogue shipped apart from the code, the way scanners ship their
vulnerability databases (trivy-db), and checked before it is ever used.

A bundle is one gzip-compressed tar file (`catalogue-VERSION.tar.gz`) of exactly three members:

    manifest.json   what the bundle is: format, format_version, schema_version, version, build_date, built_at,
                    key_id, and the size and SHA-256 of every data file
    manifest.sig    the Ed25519 signature (64 bytes) of manifest.json, byte for byte
    catalogue.json  the catalogue, as `scripts/build-catalogue.py` compiles it

tar.gz because it is what data channels of this kind use (trivy-db is a tar.gz), Python reads it without a
dependency, and gzip's CRC-32 and length trailer make a truncated download fail on its own; the members are
read into memory by name (never extracted, so no path ever reaches the disk), every size is bounded, and the
archive must hold those three regular files and nothing else.

Trust: the signature covers the manifest, the manifest covers every file by SHA-256, so one check over a few
hundred bytes proves the whole bundle. The keys interdit trusts ship with it in `data/keys/ID.pub` (PEM,
Ed25519), the file's stem being the key id the manifest names; several may be trusted at once, which is how a
key is rotated (docs/catalogue-updates.md).

An installed bundle is kept whole, as downloaded, in `$XDG_DATA_HOME/interdit/catalogue/` and verified again
each time interdit reads it: a bundle damaged on disk, or signed by a key no longer trusted, is ignored with a
warning and the shipped catalogue is used instead.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interdit.catalogue.load import (
    DATA_FILE,
    SCHEMA_VERSION,
    data_path,
    parse_catalogue,
    read_catalogue,
    validate_against_schema,
)
from interdit.errors import CatalogueError
from interdit.model import Catalogue

if TYPE_CHECKING:  # cryptography, tarfile and zlib are imported where used: reading the catalogue when no update
    # is installed (the common case, on every start) costs nothing more
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

BUNDLE_FORMAT = "interdit-catalogue-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
DATA_FILES = (DATA_FILE,)
MEMBERS = (MANIFEST, SIGNATURE, *DATA_FILES)
MAX_BUNDLE_BYTES = 32 * 1024 * 1024  # the 2026 catalogue is 20 kB compressed; room for a hundred times more
MAX_TAR_BYTES = 128 * 1024 * 1024  # uncompressed: a gzip bomb stops here
INSTALLED_FILE = "catalogue-bundle.tar.gz"
KEYS_FOLDER = "keys"
KEY_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
VERSION = re.compile(r"^[0-9]{4}\.[0-9]{1,2}\.[0-9]+$")

# why a bundle is refused; each reason has the fix a person can act on
REASONS: dict[str, str] = {
    "malformed": "this is not an interdit catalogue bundle: check the URL or the file (a catalogue-*.tar.gz "
                 "made by scripts/build-catalogue.py --bundle)",
    "truncated": "download it again; if that keeps failing, the mirror holds a damaged copy: tell whoever runs it",
    "tampered": "do not use this file: download the bundle again from the channel you trust "
                "(INTERDIT_CATALOGUE_URL) and tell whoever runs the mirror",
    "untrusted-key": "use a bundle signed by a key interdit trusts; if the interdit project rotated its key, "
                     "upgrade interdit first (docs/catalogue-updates.md, 'Keys')",
    "schema": "use the bundle built for the catalogue schema this interdit reads, or upgrade interdit",
    "invalid": "the bundle's catalogue is signed but does not load: report it to whoever built the bundle",
    "stale": "nothing to do: the catalogue in use is newer; if you expected a newer one, the mirror is behind",
}


class BundleError(CatalogueError):
    """A bundle interdit refuses. `reason` is one of REASONS; nothing was installed or changed."""

    def __init__(self, reason: str, message: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.reason = reason
        super().__init__(message, where=where, fix=fix or REASONS[reason])


# -- versions ---------------------------------------------------------------------------------------


def version_key(version: str) -> tuple[int, ...]:
    """`2026.11.1` -> (2026, 11, 1): catalogue versions are compared as numbers, year, month, release."""
    if not VERSION.match(version):
        raise CatalogueError(f"catalogue version {version!r} is not YEAR.MONTH.RELEASE, e.g. 2026.11.1",
                             fix="give the catalogue a version such as 2026.11.1")
    return tuple(int(part) for part in version.split("."))


# -- keys -------------------------------------------------------------------------------------------


def keys_folder() -> Path:
    """The trusted public keys shipped with interdit."""
    return data_path(KEYS_FOLDER)


def trusted_keys(folder: Path | None = None) -> dict[str, Ed25519PublicKey]:
    """Every `ID.pub` (PEM, Ed25519) in `folder` (default: the shipped keys), by key id."""
    where = folder or keys_folder()
    keys: dict[str, Ed25519PublicKey] = {}
    for path in sorted(where.glob("*.pub")) if where.is_dir() else ():
        if not KEY_ID.match(path.stem):
            raise CatalogueError(f"the key file name {path.name!r} is no key id (lower-case letters, digits, . _ -)",
                                 where=str(path), fix="rename the file to ID.pub")
        keys[path.stem] = public_key(path.read_bytes(), where=str(path))
    return keys


def public_key(pem: bytes, *, where: str) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise CatalogueError(f"not a PEM public key: {exc}", where=where,
                             fix="write it with scripts/build-catalogue.py --new-key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CatalogueError("the key is not an Ed25519 key", where=where, fix="catalogue keys are Ed25519 keys")
    return key


def private_key(pem: bytes, *, where: str, password: bytes | None = None) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError) as exc:
        raise CatalogueError(f"cannot read the signing key: {exc}", where=where,
                             fix="give the PEM private key written by scripts/build-catalogue.py --new-key (and its "
                                 "passphrase in INTERDIT_CATALOGUE_KEY_PASSPHRASE if it has one)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CatalogueError("the signing key is not an Ed25519 key", where=where,
                             fix="catalogue bundles are signed with Ed25519 keys")
    return key


def raw(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(key: Ed25519PrivateKey, trusted: Mapping[str, Ed25519PublicKey]) -> str | None:
    """The id under which `key`'s public half is trusted, if it is."""
    mine = raw(key.public_key())
    return next((kid for kid, pub in trusted.items() if raw(pub) == mine), None)


def new_key_pair() -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of a new Ed25519 key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


# -- the manifest -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileEntry:
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    schema_version: int
    version: str
    build_date: date
    built_at: datetime
    key_id: str
    files: Mapping[str, FileEntry]
    format_version: int = FORMAT_VERSION

    def to_bytes(self) -> bytes:
        doc = {"format": BUNDLE_FORMAT, "format_version": self.format_version, "schema_version": self.schema_version,
               "version": self.version, "build_date": self.build_date.isoformat(),
               "built_at": self.built_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "key_id": self.key_id,
               "files": {name: {"size": f.size, "sha256": f.sha256} for name, f in sorted(self.files.items())}}
        return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.to_bytes())
        return result


def _parse_manifest(data: bytes, where: str) -> Manifest:
    def bad(message: str) -> BundleError:
        return BundleError("malformed", f"{MANIFEST}: {message}", where=where)

    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad(f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
        raise bad(f"'format' is not {BUNDLE_FORMAT!r}")
    if doc.get("format_version") != FORMAT_VERSION:
        raise BundleError("schema", f"bundle format {doc.get('format_version')!r}; this interdit reads format "
                          f"{FORMAT_VERSION}", where=where, fix="upgrade interdit")
    schema = doc.get("schema_version")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise bad("'schema_version' must be a whole number")
    version, key_id, files = doc.get("version"), doc.get("key_id"), doc.get("files")
    if not isinstance(version, str) or not VERSION.match(version):
        raise bad(f"'version' {version!r} is not YEAR.MONTH.RELEASE")
    if not isinstance(key_id, str) or not KEY_ID.match(key_id):
        raise bad(f"'key_id' {key_id!r} is no key id")
    try:
        build_date = date.fromisoformat(doc.get("build_date"))  # type: ignore[arg-type]
        built_at = datetime.fromisoformat(str(doc.get("built_at")).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise bad("'build_date' and 'built_at' must be ISO 8601 dates") from None
    if built_at.tzinfo is None:
        raise bad("'built_at' has no time zone")
    if not isinstance(files, dict) or not files:
        raise bad("'files' must list the bundle's data files")
    entries: dict[str, FileEntry] = {}
    for name, entry in files.items():
        size = entry.get("size") if isinstance(entry, dict) else None
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(size, int) or not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise bad(f"files[{name!r}] needs a 'size' and a 'sha256' (64 hex digits)")
        entries[name] = FileEntry(size, digest)
    return Manifest(schema, version, build_date, built_at, key_id, entries, FORMAT_VERSION)


# -- building ---------------------------------------------------------------------------------------


def build_bundle(catalogue_json: bytes, key: Ed25519PrivateKey, key_id: str, *, built_at: datetime) -> bytes:
    """A signed bundle of `catalogue_json` (checked to load first). The same inputs give the same bytes: the
    members' times and gzip's are `built_at`, and Ed25519 signatures are deterministic."""
    import gzip
    import tarfile

    if not KEY_ID.match(key_id):
        raise CatalogueError(f"{key_id!r} is no key id", fix="use lower-case letters, digits, '.', '_' and '-'")
    try:
        data = json.loads(catalogue_json)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"the catalogue is not JSON: {exc}", where=DATA_FILE) from None
    cat = parse_catalogue(data, where=DATA_FILE)
    entry = FileEntry(len(catalogue_json), hashlib.sha256(catalogue_json).hexdigest())
    manifest = Manifest(cat.schema_version, cat.version, cat.build_date,
                        built_at.astimezone(UTC).replace(microsecond=0), key_id, {DATA_FILE: entry})
    text = manifest.to_bytes()
    members = ((MANIFEST, text), (SIGNATURE, key.sign(text)), (DATA_FILE, catalogue_json))
    stamp = int(manifest.built_at.timestamp())
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), stamp, 0o644
            tar.addfile(info, io.BytesIO(content))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=stamp) as gz:
        gz.write(tar_bytes.getvalue())
    return out.getvalue()


def bundle_name(version: str) -> str:
    return f"catalogue-{version}.tar.gz"


# -- reading and verifying ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    """A bundle whose signature, checksums, schema and catalogue were checked."""

    manifest: Manifest
    catalogue: Catalogue
    data: bytes  # the bundle as received, kept whole when installed

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _members(data: bytes, where: str) -> dict[str, bytes]:
    import tarfile
    import zlib

    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError("malformed", f"the bundle is {len(data):,} bytes, more than the {MAX_BUNDLE_BYTES:,} "
                          "a catalogue bundle may have", where=where)
    if not data.startswith(b"\x1f\x8b"):
        raise BundleError("truncated" if not data else "malformed",
                          "the bundle is empty" if not data else "the bundle is not gzip-compressed (a .tar.gz)",
                          where=where)
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        tar_bytes = inflater.decompress(data, MAX_TAR_BYTES)
    except zlib.error as exc:
        raise BundleError("truncated", f"the bundle is damaged ({exc})", where=where) from None
    if inflater.unconsumed_tail:
        raise BundleError("malformed", f"the bundle unpacks to more than {MAX_TAR_BYTES:,} bytes", where=where)
    if not inflater.eof:
        raise BundleError("truncated", f"the bundle ends early ({len(data):,} bytes): it was cut short", where=where)
    if inflater.unused_data:
        raise BundleError("malformed", "the bundle has data after its end", where=where)
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
            for member in tar:
                if member.name not in MEMBERS or not member.isfile():
                    raise BundleError("malformed", f"the bundle holds {member.name!r}; a bundle holds only the regular "
                                      f"files {', '.join(MEMBERS)}", where=where)
                if member.name in members:
                    raise BundleError("malformed", f"the bundle holds {member.name!r} twice", where=where)
                handle = tar.extractfile(member)
                content = handle.read() if handle is not None else b""
                if len(content) != member.size:
                    raise BundleError("truncated", f"{member.name} is cut short", where=where)
                members[member.name] = content
    except (tarfile.TarError, EOFError, ValueError, UnicodeError) as exc:
        raise BundleError("truncated", f"the bundle's archive is damaged ({exc})", where=where) from None
    missing = [name for name in (MANIFEST, SIGNATURE) if name not in members]
    if missing:
        raise BundleError("malformed", f"the bundle has no {' and no '.join(missing)}", where=where)
    return members


def _signed_by(manifest: bytes, signature: bytes, trusted: Mapping[str, Ed25519PublicKey], where: str) -> str:
    """The id of the trusted key that signed `manifest`, or a refusal that says which problem it is."""
    from cryptography.exceptions import InvalidSignature

    if len(signature) == 64:
        for kid, key in trusted.items():
            try:
                key.verify(signature, manifest)
            except InvalidSignature:
                continue
            return kid
    try:
        claimed = json.loads(manifest).get("key_id")
    except (ValueError, UnicodeDecodeError, AttributeError):
        claimed = None
    names = ", ".join(sorted(trusted)) or "none"
    if isinstance(claimed, str) and claimed in trusted:
        raise BundleError("tampered", f"the manifest does not match its signature by key {claimed!r}: it was "
                          "altered after signing, or the signature was replaced", where=where)
    raise BundleError("untrusted-key", f"the bundle is signed with key {claimed!r}, which this interdit does not "
                      f"trust (trusted keys: {names})", where=where)


def read_bundle(data: bytes, *, where: str, trusted: Mapping[str, Ed25519PublicKey] | None = None,
                full_check: bool = True) -> Bundle:
    """Verify a bundle and load its catalogue; anything wrong raises `BundleError` with its reason.

    In order: the archive (whole, three regular files), the manifest's signature by a trusted key, the manifest
    (format, schema version), each file's size and SHA-256, then the catalogue itself (with `full_check`,
    against this interdit's JSON Schema too, as on install; reading an installed bundle skips that)."""
    keys = trusted_keys() if trusted is None else trusted
    members = _members(data, where)
    key_id = _signed_by(members[MANIFEST], members[SIGNATURE], keys, where)
    manifest = _parse_manifest(members[MANIFEST], where)
    if manifest.key_id != key_id:
        raise BundleError("tampered", f"the manifest names key {manifest.key_id!r} but was signed by key {key_id!r}",
                          where=where)
    if manifest.schema_version != SCHEMA_VERSION:
        newer = manifest.schema_version > SCHEMA_VERSION
        raise BundleError("schema", f"the bundle is built for catalogue schema {manifest.schema_version}; this "
                          f"interdit reads schema {SCHEMA_VERSION}", where=where,
                          fix="upgrade interdit to read it" if newer else
                          f"use the bundle built for schema {SCHEMA_VERSION} (the channel's URL may hold {{schema}})")
    extra = sorted(set(members) - {MANIFEST, SIGNATURE} - set(manifest.files))
    absent = sorted(set(manifest.files) - set(members))
    if extra or absent or DATA_FILE not in manifest.files:
        raise BundleError("tampered", "the files in the bundle are not those its signed manifest lists "
                          f"(not listed: {', '.join(extra) or 'none'}; missing: {', '.join(absent) or 'none'})",
                          where=where)
    for name, entry in manifest.files.items():
        content = members[name]
        if len(content) != entry.size or hashlib.sha256(content).hexdigest() != entry.sha256:
            raise BundleError("tampered", f"{name} does not match the size and SHA-256 in the signed manifest: it "
                              "was altered or damaged after signing", where=where)
    place = f"{where} ({DATA_FILE})"
    try:
        doc = json.loads(members[DATA_FILE])
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError("invalid", f"{DATA_FILE} is not JSON: {exc}", where=where) from None
    try:
        if full_check:
            validate_against_schema(doc, where=place)
        cat = parse_catalogue(doc, where=place)
    except CatalogueError as exc:
        raise BundleError("invalid", exc.message, where=exc.where or where) from None
    if (cat.version, cat.build_date) != (manifest.version, manifest.build_date):
        raise BundleError("invalid", f"the manifest says version {manifest.version} of {manifest.build_date}; the "
                          f"catalogue inside is {cat.version} of {cat.build_date}", where=where)
    return Bundle(manifest, cat, data)


# -- installing -------------------------------------------------------------------------------------


def data_folder() -> Path:
    """Where an installed bundle is kept: `$XDG_DATA_HOME/interdit/catalogue` (`~/.local/share/...` by default),
    the data-side twin of the folder `interdit logs scan` keeps its compiled lists in (`$XDG_CACHE_HOME`)."""
    base = os.environ.get("XDG_DATA_HOME")
    if not base:
        try:
            base = str(Path.home() / ".local" / "share")
        except RuntimeError:  # no HOME and no account entry (a service with a dynamic user)
            raise CatalogueError("no data folder: neither XDG_DATA_HOME nor a home folder is set",
                                 fix="set XDG_DATA_HOME to a folder this account can write") from None
    return Path(base) / "interdit" / "catalogue"


def installed_path(folder: Path | None = None) -> Path:
    return (folder or data_folder()) / INSTALLED_FILE


def install(bundle: Bundle, folder: Path | None = None) -> Path:
    """Keep `bundle` as the installed catalogue, atomically: written to a temporary file in the same folder,
    flushed to disk, then renamed over the previous one. A failure at any step leaves the previous one."""
    import tempfile

    target = installed_path(folder)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".catalogue-", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise CatalogueError(f"cannot write the catalogue folder: {exc.strerror or exc}", where=str(target.parent),
                             fix="check its permissions, or set XDG_DATA_HOME to a folder you can write") from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(bundle.data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CatalogueError(f"cannot install the catalogue: {exc.strerror or exc}; the previous one is unchanged",
                             where=str(target), fix="check the folder's permissions and free space") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)
    return target


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a system without directory handles skips it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- which catalogue is in use ------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """The catalogue in use and why: `origin` is "shipped" or "installed"; `installed` describes the installed
    bundle whether it is used or not (None when there is none), `problem` why it cannot be used."""

    catalogue: Catalogue
    origin: str
    path: Path
    installed: Manifest | None = None
    installed_path: Path | None = None
    problem: str | None = None
    warn: bool = True  # False for a bundle that is merely obsolete (built for another catalogue schema)


def select(shipped: Catalogue, shipped_path: Path, *, folder: Path | None = None,
           trusted: Mapping[str, Ed25519PublicKey] | None = None) -> Selection:
    """The installed bundle when it verifies and is newer than the shipped catalogue, else the shipped one."""
    try:
        path = installed_path(folder)
        present = path.is_file()
    except (CatalogueError, OSError):
        present = False
    if not present:
        return Selection(shipped, "shipped", shipped_path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BUNDLE_BYTES + 1)
        bundle = read_bundle(data, where=str(path), trusted=trusted, full_check=False)
    except OSError as exc:
        return Selection(shipped, "shipped", shipped_path, installed_path=path,
                         problem=f"cannot read it: {exc.strerror or exc}")
    except BundleError as exc:
        return Selection(shipped, "shipped", shipped_path, installed_path=path, problem=exc.message,
                         warn=exc.reason != "schema")
    except CatalogueError as exc:  # the trusted keys themselves
        return Selection(shipped, "shipped", shipped_path, installed_path=path, problem=exc.message)
    try:
        older = version_key(bundle.manifest.version) <= version_key(shipped.version)
    except CatalogueError as exc:
        return Selection(shipped, "shipped", shipped_path, bundle.manifest, path, problem=exc.message)
    if older:
        return Selection(shipped, "shipped", shipped_path, bundle.manifest, path)
    return Selection(bundle.catalogue, "installed", path, bundle.manifest, path)


def in_use(shipped: Catalogue, shipped_path: Path) -> Catalogue:
    """`select`, warning (logger `interdit.catalogue`) when an installed bundle cannot be used."""
    chosen = select(shipped, shipped_path)
    if chosen.problem is not None and chosen.warn:
        import logging

        logging.getLogger("interdit.catalogue").warning(
            "warning: the installed catalogue update is not used: %s\n  using the catalogue shipped with interdit (%s) "
            "instead; run 'interdit catalogue update' again, or delete %s",
            chosen.problem, shipped.version, chosen.installed_path)
    return chosen.catalogue


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The catalogue in use, read once per process: the shipped one, or a signed update installed with
    `interdit catalogue update` when it verifies and is newer (a damaged one is warned about)."""
    return in_use(read_catalogue(data_path()), data_path())
