#!/usr/bin/env python3
"""Check the catalogue source, write the copy interdit loads, and build signed update bundles.

    .venv/bin/python scripts/build-catalogue.py          # validate catalogue.yaml, write catalogue.json
    .venv/bin/python scripts/build-catalogue.py --check  # fail if catalogue.json is not up to date

    # a signed bundle for `interdit catalogue update` (the private key never enters the repository)
    .venv/bin/python scripts/build-catalogue.py --bundle dist/ --key-file /secure/catalogue-signing-key.pem
    INTERDIT_CATALOGUE_SIGNING_KEY="$(cat key.pem)" .venv/bin/python scripts/build-catalogue.py --bundle dist/

    # a new signing key: the private key where you say, the public key into the trusted keys
    .venv/bin/python scripts/build-catalogue.py --new-key /secure/key-2027.pem --key-id interdit-2027

catalogue.yaml is the file people edit and review; catalogue.json holds the same data and parses much faster.
A bundle (catalogue-VERSION.tar.gz) holds catalogue.json, a manifest with the SHA-256 of each file, and the
Ed25519 signature of the manifest; --bundle builds it from the source (--source, default the shipped
catalogue.yaml) without writing catalogue.json. Set SOURCE_DATE_EPOCH to rebuild a bundle byte for byte.
See docs/catalogue-updates.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from interdit.catalogue import channel
from interdit.catalogue.load import DATA_FILE, SOURCE_FILE, data_path, parse_catalogue, validate_against_schema
from interdit.errors import CatalogueError

KEY_ENV = "INTERDIT_CATALOGUE_SIGNING_KEY"  # the PEM text itself
PASSPHRASE_ENV = "INTERDIT_CATALOGUE_KEY_PASSPHRASE"
REPOSITORY = Path(__file__).resolve().parents[1]


def compiled(source: Path) -> str:
    data = YAML(typ="safe", pure=True).load(source.read_text("utf-8"))
    validate_against_schema(data, where=str(source))
    parse_catalogue(data, where=str(source))  # references between entries, shared hosts
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def _signing_key(key_file: Path | None) -> Any:
    passphrase = os.environ.get(PASSPHRASE_ENV)
    password = passphrase.encode("utf-8") if passphrase else None
    if key_file is not None:
        try:
            pem = key_file.read_bytes()
        except OSError as exc:
            raise CatalogueError(f"cannot read the signing key: {exc.strerror or exc}", where=str(key_file),
                                 fix="give the path of the PEM private key with --key-file") from None
        return channel.private_key(pem, where=str(key_file), password=password)
    text = os.environ.get(KEY_ENV)
    if not text:
        raise CatalogueError("no signing key", fix=f"pass --key-file PATH, or put the PEM private key in {KEY_ENV}")
    return channel.private_key(text.encode("utf-8"), where=KEY_ENV, password=password)


def _built_at() -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0)


def bundle(text: str, out: Path, key_file: Path | None, key_id: str | None, keys: Path | None) -> Path:
    key = _signing_key(key_file)
    trusted = channel.trusted_keys(keys)
    known = channel.key_id_of(key, trusted)
    if key_id is None:
        if known is None:
            raise CatalogueError("this signing key is not among the trusted keys interdit ships, so every interdit "
                                 "would refuse the bundle", where=str(keys or channel.keys_folder()),
                                 fix="sign with a trusted key, or pass --key-id ID to build with a key that is "
                                     "about to be trusted (docs/catalogue-updates.md, 'Keys')")
        key_id = known
    elif known is not None and known != key_id:
        raise CatalogueError(f"this key is trusted as {known!r}, not {key_id!r}", fix=f"pass --key-id {known}")
    data = channel.build_bundle(text.encode("utf-8"), key, key_id, built_at=_built_at())
    checked = channel.read_bundle(data, where="the new bundle", trusted={key_id: key.public_key()})
    target = out / channel.bundle_name(checked.manifest.version) if out.is_dir() else out
    target.write_bytes(data)
    return target


def new_key(path: Path, key_id: str, keys: Path) -> Path:
    if not channel.KEY_ID.match(key_id):
        raise CatalogueError(f"{key_id!r} is no key id", fix="use lower-case letters, digits, '.', '_' and '-'")
    if path.resolve().is_relative_to(REPOSITORY):
        raise CatalogueError("the private key would be written inside the repository", where=str(path),
                             fix="write it outside the repository, where your deployment secrets live")
    public_file = keys / f"{key_id}.pub"
    for existing in (path, public_file):
        if existing.exists():
            raise CatalogueError("the file exists already", where=str(existing), fix="choose another path or key id")
    private, public = channel.new_key_pair()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private)
    keys.mkdir(parents=True, exist_ok=True)
    public_file.write_bytes(public)
    return public_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that catalogue.json is current")
    parser.add_argument("--source", type=Path, help="the YAML to build from (default: the shipped catalogue.yaml)")
    parser.add_argument("--bundle", type=Path, metavar="OUT",
                        help="write a signed bundle to OUT (a folder: catalogue-VERSION.tar.gz in it)")
    parser.add_argument("--key-file", type=Path, help=f"the PEM private key to sign with (else {KEY_ENV})")
    parser.add_argument("--key-id", help="the id of the signing key (default: found among the trusted keys)")
    parser.add_argument("--keys", type=Path, help="the trusted public keys folder (default: the shipped one)")
    parser.add_argument("--new-key", type=Path, metavar="PRIVATE_PEM",
                        help="write a new key pair: the private key to PRIVATE_PEM, the public key to KEYS/ID.pub")
    args = parser.parse_args()
    try:
        if args.new_key is not None:
            if not args.key_id:
                parser.error("--new-key needs --key-id")
            public = new_key(args.new_key, args.key_id, args.keys or channel.keys_folder())
            print(f"wrote {args.new_key} (private: keep it out of the repository) and {public}")
            return 0
        source, target = args.source or data_path(SOURCE_FILE), data_path(DATA_FILE)
        text = compiled(source)
        if args.bundle is not None:
            written = bundle(text, args.bundle, args.key_file, args.key_id, args.keys)
            print(f"wrote {written}")
            return 0
    except CatalogueError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.check:
        if not target.exists() or target.read_text("utf-8") != text:
            print(f"{target} is out of date: run scripts/build-catalogue.py", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
