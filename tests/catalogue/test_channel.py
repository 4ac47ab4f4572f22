"""The signed update channel, as a user meets it: bundles built by scripts/build-catalogue.py, served by a real
HTTP(S) server on 127.0.0.1 or read from a file, verified, installed atomically, used in place of the shipped
catalogue, and refused (exit 2, nothing changed) when tampered with, wrongly signed, stale, cut short or built
for another schema. Every test makes its own key pair; the project's private key is never needed."""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import io
import ipaddress
import json
import logging
import os
import ssl
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from interdit.catalogue import channel, load_catalogue
from interdit.catalogue.diff import Item, diff
from interdit.catalogue.load import data_path, parse_catalogue
from interdit.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = json.loads(data_path().read_text("utf-8"))
NEWER, OLDER_BUT_NEWER_THAN_SHIPPED = "2099.1.1", "2098.1.1"
BUILT = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
runner = CliRunner()


# -- keys, catalogues and bundles ---------------------------------------------------------------------


@pytest.fixture()
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture()
def trust(key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """interdit trusts the test's key (as `test-1`) and only it."""
    keys = {"test-1": key.public_key()}
    monkeypatch.setattr(channel, "trusted_keys", lambda folder=None: dict(keys))
    return keys


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data folder of the test's own; the catalogue in use is read afresh before and after."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    load_catalogue.cache_clear()
    yield tmp_path / "data" / "interdit" / "catalogue"
    load_catalogue.cache_clear()


def _adopted() -> tuple[str, str]:
    """A shipped directive that names a family, and that family: what the test policy adopts."""
    directive = next(d for d in SHIPPED["directives"] if d.get("families"))
    return directive["id"], directive["families"][0]


def newer_doc(version: str = NEWER) -> tuple[dict[str, Any], dict[str, Any]]:
    """The shipped catalogue, changed: a new version, one identifier added to and one removed from the adopted
    family, a new directive naming that family, and the adopted directive amended (its English title, and one
    family more).
    Returns (document, what was changed)."""
    doc = copy.deepcopy(SHIPPED)
    directive_id, family_id = _adopted()
    doc["version"] = version
    family = next(f for f in doc["families"] if f["id"] == family_id)
    removed = family["identifiers"].pop(0)
    added = {**copy.deepcopy(family["identifiers"][0]), "id": "org.example.channeltest"}
    family["identifiers"].append(added)
    directive = next(d for d in doc["directives"] if d["id"] == directive_id)
    directive["title"] = {**directive["title"], "en": directive["title"]["en"] + " (amended)"}
    gained = next(f["id"] for f in doc["families"] if f["id"] not in directive["families"])
    directive["families"] = [*directive["families"], gained]
    doc["directives"].append({**copy.deepcopy(directive), "id": "zz-2099-channel-test"})
    return doc, {"family": family_id, "directive": directive_id, "gained": gained,
                 "added": f"{added['platform']}:{added['id']}",
                 "removed": f"{removed['platform']}:{removed['id']}"}


def encode(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def bundle(key: Ed25519PrivateKey, doc: dict[str, Any] | None = None, key_id: str = "test-1") -> bytes:
    return channel.build_bundle(encode(doc or newer_doc()[0]), key, key_id, built_at=BUILT)


def unpack(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]


def pack(members: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue())


def policy_file(tmp_path: Path, directive: str | None = None) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(f"organisation: Test\nlanguage: en\nadopt:\n  - directive: {directive or _adopted()[0]}\n", "utf-8")
    return path


def cli(tmp_path: Path, *args: str, policy: Path | None = None) -> Any:
    return runner.invoke(app, ["--policy", str(policy or policy_file(tmp_path)), *args])


# -- a real server on 127.0.0.1 -----------------------------------------------------------------------


class Server:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.cut: set[str] = set()  # paths whose connection closes halfway through the announced length
        files, redirects, cut = self.files, self.redirects, self.cut

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path in redirects:
                    self.send_response(302)
                    self.send_header("Location", redirects[self.path])
                    self.end_headers()
                    return
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if self.path in cut else body)
                if self.path in cut:
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.stop()


def _certificates(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A certificate authority of the test's own (its certificate written to ca.pem) and a server context whose
    certificate it signed for 127.0.0.1."""
    now = dt.datetime.now(dt.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "interdit test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(leaf.public_bytes(pem))
    (folder / "server.key").write_bytes(leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                               serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return folder / "ca.pem", context


# -- the build script ---------------------------------------------------------------------------------


def _script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "build-catalogue.py"), *args], text=True,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
                          timeout=120)


def test_the_build_script_makes_a_signed_bundle_again_byte_for_byte(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    made = _script("--new-key", str(tmp_path / "signing.pem"), "--key-id", "test-1", "--keys", str(keys))
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "signing.pem").stat().st_mode & 0o077 == 0  # the private key is the owner's alone
    out = tmp_path / "dist"
    out.mkdir()
    runs = []
    for env in ({"SOURCE_DATE_EPOCH": "1765108800"}, {"SOURCE_DATE_EPOCH": "1765108800",
                                                      "INTERDIT_CATALOGUE_SIGNING_KEY":
                                                      (tmp_path / "signing.pem").read_text()}):
        extra = [] if "INTERDIT_CATALOGUE_SIGNING_KEY" in env else ["--key-file", str(tmp_path / "signing.pem")]
        result = _script("--bundle", str(out), "--keys", str(keys), *extra, env=env)
        assert result.returncode == 0, result.stderr
        runs.append((out / f"catalogue-{SHIPPED['version']}.tar.gz").read_bytes())
    assert runs[0] == runs[1]  # the key from a file or from the environment, the same bundle
    checked = channel.read_bundle(runs[0], where="dist", trusted=channel.trusted_keys(keys))
    assert checked.manifest.key_id == "test-1" and checked.catalogue.version == SHIPPED["version"]
    assert checked.manifest.built_at == dt.datetime.fromtimestamp(1765108800, dt.UTC)
    assert sorted(unpack(runs[0])) == ["catalogue.json", "manifest.json", "manifest.sig"]


def test_the_build_script_refuses_a_key_no_interdit_trusts(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    (tmp_path / "stranger.pem").write_bytes(pem)
    result = _script("--bundle", str(tmp_path / "b.tar.gz"), "--key-file", str(tmp_path / "stranger.pem"))
    assert result.returncode == 1
    assert "not among the trusted keys" in result.stderr and "--key-id" in result.stderr
    assert not (tmp_path / "b.tar.gz").exists()


def test_the_build_script_never_writes_a_private_key_into_the_repository(tmp_path: Path) -> None:
    result = _script("--new-key", str(ROOT / "leak.pem"), "--key-id", "leak", "--keys", str(tmp_path))
    assert result.returncode == 1 and "inside the repository" in result.stderr
    assert not (ROOT / "leak.pem").exists()


def test_the_shipped_keys_are_ed25519_public_keys_only() -> None:
    keys = channel.trusted_keys(channel.keys_folder())
    assert keys, "interdit ships no trusted catalogue key"
    for path in channel.keys_folder().iterdir():
        assert b"PRIVATE" not in path.read_bytes(), path


# -- over HTTP(S) -------------------------------------------------------------------------------------


def test_a_good_bundle_is_installed_used_and_its_changes_told(tmp_path: Path, key: Ed25519PrivateKey,
                                                              trust: Any, server: Server, data_home: Path) -> None:
    doc, changed = newer_doc()
    server.files["/catalogue.tar.gz"] = bundle(key, doc)
    result = cli(tmp_path, "catalogue", "update", server.url("/catalogue.tar.gz"))
    assert result.exit_code == 0, result.output
    assert (data_home / channel.INSTALLED_FILE).read_bytes() == server.files["/catalogue.tar.gz"]
    assert f"Installed catalogue {NEWER}" in result.output
    assert "1 new directive: zz-2099-channel-test" in result.output
    assert f"1 identifier added to {changed['family']}: {changed['added']}" in result.output
    assert f"1 identifier removed from {changed['family']}: {changed['removed']}" in result.output
    assert "1 new directive names families your policy bans: zz-2099-channel-test" in result.output
    assert f"directive {changed['directive']}, which your policy adopts, is amended: title, families" \
        in result.output
    assert f"rule {changed['directive']} now also bans {changed['gained']}" in result.output
    assert "plain HTTP" in result.output  # loopback HTTP is allowed, and said
    cat = load_catalogue()
    assert cat.version == NEWER and "zz-2099-channel-test" in cat.directives
    info = cli(tmp_path, "catalogue", "info", "--format", "json")
    doc_info = json.loads(info.stdout)
    assert doc_info["origin"] == "installed" and doc_info["version"] == NEWER
    assert doc_info["installed"]["key_id"] == "test-1"


def test_https_with_a_private_authority_named_by_ssl_cert_file(tmp_path: Path, key: Ed25519PrivateKey, trust: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ca, context = _certificates(tmp_path)
    tls = Server(context)
    try:
        tls.files["/c.tar.gz"] = bundle(key)
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        refused = cli(tmp_path, "catalogue", "update", tls.url("/c.tar.gz"))
        assert refused.exit_code == 2
        assert "SSL_CERT_FILE" in refused.output  # the fix for a private authority
        assert load_catalogue().version == SHIPPED["version"]
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        result = cli(tmp_path, "catalogue", "update", tls.url("/c.tar.gz"))
        assert result.exit_code == 0, result.output
        assert "plain HTTP" not in result.output
        load_catalogue.cache_clear()
        assert load_catalogue().version == NEWER
    finally:
        tls.stop()


def _tampered_catalogue(key: Ed25519PrivateKey) -> bytes:
    members = unpack(bundle(key))
    data = bytearray(members["catalogue.json"])
    data[len(data) // 2] ^= 0x01
    return pack({**members, "catalogue.json": bytes(data)})


def _tampered_manifest(key: Ed25519PrivateKey) -> bytes:
    members = unpack(bundle(key))
    manifest = members["manifest.json"].replace(f'"{NEWER}"'.encode(), b'"2099.12.9"')
    return pack({**members, "manifest.json": manifest})


def _stale(key: Ed25519PrivateKey) -> bytes:
    return bundle(key, newer_doc(OLDER_BUT_NEWER_THAN_SHIPPED)[0])


def _other_key(key: Ed25519PrivateKey) -> bytes:
    return bundle(Ed25519PrivateKey.generate(), key_id="stranger")


def _same_id_other_key(key: Ed25519PrivateKey) -> bytes:
    return bundle(Ed25519PrivateKey.generate(), key_id="test-1")


def _truncated(key: Ed25519PrivateKey) -> bytes:
    good = bundle(key)
    return good[: len(good) // 2]


def _other_schema(key: Ed25519PrivateKey) -> bytes:
    members = unpack(bundle(key))
    manifest = json.loads(members["manifest.json"])
    manifest["schema_version"] += 1
    text = json.dumps(manifest).encode()
    return pack({**members, "manifest.json": text, "manifest.sig": key.sign(text)})


def _extra_member(key: Ed25519PrivateKey) -> bytes:
    return pack({**unpack(bundle(key)), "../../evil.sh": b"#!/bin/sh\n"})


BAD: dict[str, tuple[Callable[[Ed25519PrivateKey], bytes], str, str]] = {
    # name: (make the bundle, reason, words the message must have)
    "a byte changed in catalogue.json": (_tampered_catalogue, "tampered", "does not match the size and SHA-256"),
    "the manifest edited": (_tampered_manifest, "tampered", "altered after signing"),
    "signed with another key": (_other_key, "untrusted-key", "'stranger', which this interdit does not trust"),
    "another key claiming a trusted id": (_same_id_other_key, "tampered", "does not match its signature"),
    "cut short": (_truncated, "truncated", "cut short"),
    "built for another schema": (_other_schema, "schema", "built for catalogue schema"),
    "a member that is not the bundle's": (_extra_member, "malformed", "'../../evil.sh'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_bundle_over_http_is_refused_and_nothing_changes(case: str, tmp_path: Path, key: Ed25519PrivateKey,
                                                               trust: Any, server: Server, data_home: Path) -> None:
    make, reason, words = BAD[case]
    previous = bundle(key, newer_doc("2099.1.0")[0])
    server.files["/good.tar.gz"] = previous
    assert cli(tmp_path, "catalogue", "update", server.url("/good.tar.gz")).exit_code == 0
    server.files["/bad.tar.gz"] = make(key)
    result = cli(tmp_path, "catalogue", "update", server.url("/bad.tar.gz"))
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert server.url("/bad.tar.gz") in result.output and "fix:" in result.output
    assert (data_home / channel.INSTALLED_FILE).read_bytes() == previous
    assert sorted(p.name for p in data_home.iterdir()) == [channel.INSTALLED_FILE]
    with pytest.raises(channel.BundleError) as raised:
        channel.read_bundle(server.files["/bad.tar.gz"], where="bad", trusted=trust)
    assert raised.value.reason == reason


def test_an_older_bundle_is_refused_and_the_same_one_is_up_to_date(tmp_path: Path, key: Ed25519PrivateKey,
                                                                   trust: Any, server: Server) -> None:
    server.files["/new.tar.gz"] = bundle(key)
    server.files["/old.tar.gz"] = _stale(key)
    assert cli(tmp_path, "catalogue", "update", server.url("/new.tar.gz")).exit_code == 0
    older = cli(tmp_path, "catalogue", "update", server.url("/old.tar.gz"))
    assert older.exit_code == 2
    assert f"older than the one in use, {NEWER}" in older.output and "never goes back" in older.output
    again = cli(tmp_path, "catalogue", "update", server.url("/new.tar.gz"))
    assert again.exit_code == 0 and "is up to date" in again.output
    shipped_again = bundle(key, SHIPPED)
    server.files["/shipped.tar.gz"] = shipped_again
    assert cli(tmp_path, "catalogue", "update", server.url("/shipped.tar.gz")).exit_code == 2


def test_the_same_version_with_other_content_is_refused(tmp_path: Path, key: Ed25519PrivateKey, trust: Any) -> None:
    doc, _ = newer_doc(SHIPPED["version"])
    (tmp_path / "b.tar.gz").write_bytes(bundle(key, doc))
    result = cli(tmp_path, "catalogue", "update", str(tmp_path / "b.tar.gz"))
    assert result.exit_code == 2 and "a catalogue's version changes with its content" in result.output


def test_plain_http_elsewhere_than_this_machine_is_refused_before_any_connection(tmp_path: Path, trust: Any,
                                                                                 server: Server) -> None:
    result = cli(tmp_path, "catalogue", "update", "http://catalogue.invalid/c.tar.gz")
    assert result.exit_code == 2 and "refusing plain HTTP" in result.output and "--allow-http" in result.output
    server.redirects["/moved"] = "http://catalogue.invalid/c.tar.gz"  # nor through a redirect
    moved = cli(tmp_path, "catalogue", "update", server.url("/moved"))
    assert moved.exit_code == 2 and "refusing plain HTTP to catalogue.invalid" in moved.output


def test_allow_http_reaches_a_mirror_without_tls_and_says_so(key: Ed25519PrivateKey) -> None:
    import httpx

    from interdit.errors import ConfigError
    from interdit.pipeline.catalogue_update import fetch

    served = bundle(key)
    asked: list[str] = []

    def mirror(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, content=served)

    client = httpx.Client(transport=httpx.MockTransport(mirror))
    with pytest.raises(ConfigError, match=r"refusing plain HTTP to mirror\.internal"):
        fetch("http://mirror.internal/c.tar.gz", client=client)
    assert asked == []  # refused before any request
    assert fetch("http://mirror.internal/c.tar.gz", allow_http=True, client=client) == (served, True)
    assert fetch("https://mirror.internal/c.tar.gz", client=client) == (served, False)


def test_a_redirect_to_the_bundle_is_followed(tmp_path: Path, key: Ed25519PrivateKey, trust: Any,
                                              server: Server) -> None:
    server.files["/v1/catalogue.tar.gz"] = bundle(key)
    server.redirects["/latest"] = "/v1/catalogue.tar.gz"
    result = cli(tmp_path, "catalogue", "update", server.url("/latest"))
    assert result.exit_code == 0, result.output
    assert load_catalogue().version == NEWER


def test_a_download_cut_short_is_refused(tmp_path: Path, key: Ed25519PrivateKey, trust: Any, server: Server,
                                        data_home: Path) -> None:
    server.files["/c.tar.gz"] = bundle(key)
    server.cut.add("/c.tar.gz")
    result = cli(tmp_path, "catalogue", "update", server.url("/c.tar.gz"))
    assert result.exit_code == 2 and "cannot download the catalogue" in result.output
    assert not data_home.exists()


def test_a_token_in_the_url_never_shows(tmp_path: Path, trust: Any, server: Server) -> None:
    url = server.url("/nothing.tar.gz").replace("http://", "http://reader:s3cret-token@")
    result = cli(tmp_path, "catalogue", "update", url)
    assert result.exit_code == 2 and "404" in result.output
    assert "s3cret-token" not in result.output and "://***@127.0.0.1" in result.output


def test_a_missing_bundle_is_a_clear_error(tmp_path: Path, trust: Any, server: Server) -> None:
    result = cli(tmp_path, "catalogue", "update", server.url("/nothing.tar.gz"))
    assert result.exit_code == 2 and "404" in result.output and "INTERDIT_CATALOGUE_URL" in result.output


# -- --check, the configured URL, files, JSON and French ----------------------------------------------


def test_check_tells_whether_a_newer_catalogue_exists_and_installs_nothing(
        tmp_path: Path, key: Ed25519PrivateKey, trust: Any, server: Server, data_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server.files["/v1/c.tar.gz"] = bundle(key)
    monkeypatch.setenv("INTERDIT_CATALOGUE_URL", server.url("/v{schema}/c.tar.gz"))
    newer = cli(tmp_path, "catalogue", "update", "--check")
    assert newer.exit_code == 1, newer.output
    assert f"A newer signed catalogue is available: {NEWER}" in newer.output
    assert "What it would change:" in newer.output
    assert not data_home.exists()
    assert cli(tmp_path, "catalogue", "update").exit_code == 0
    same = cli(tmp_path, "catalogue", "update", "--check")
    assert same.exit_code == 0 and "is up to date" in same.output
    server.files["/v1/c.tar.gz"] = _truncated(key)
    assert cli(tmp_path, "catalogue", "update", "--check").exit_code == 2


def test_without_a_source_the_error_says_how_to_give_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTERDIT_CATALOGUE_URL", raising=False)
    result = cli(tmp_path, "catalogue", "update", "--check")
    assert result.exit_code == 2 and "INTERDIT_CATALOGUE_URL" in result.output


def test_a_file_on_an_air_gapped_network_json_and_french(tmp_path: Path, key: Ed25519PrivateKey, trust: Any) -> None:
    path = tmp_path / f"catalogue-{NEWER}.tar.gz"
    path.write_bytes(bundle(key))
    checked = cli(tmp_path, "catalogue", "update", str(path), "--check", "--format", "json")
    assert checked.exit_code == 1
    doc = json.loads(checked.stdout)
    assert doc["schema_version"] == 1 and doc["action"] == "available" and doc["plain_http"] is False
    assert doc["bundle"]["version"] == NEWER and doc["in_use_before"]["origin"] == "shipped"
    assert doc["changes"]["directives_added"] == ["zz-2099-channel-test"]
    assert doc["policy"]["impacts"][0]["kind"] == "new-directives" and doc["policy"]["loads"] is True
    french = cli(tmp_path, "catalogue", "update", str(path), "--lang", "fr")
    assert french.exit_code == 0, french.output
    assert f"Catalogue {NEWER} installé" in french.output
    assert "1 nouvelle directive vise des familles que votre politique interdit" in french.output
    info = cli(tmp_path, "catalogue", "info", "--lang", "fr")
    assert "mise à jour signée avec la clé test-1" in info.output


def test_an_update_that_drops_an_adopted_directive_needs_attention(tmp_path: Path, key: Ed25519PrivateKey,
                                                                   trust: Any) -> None:
    doc, changed = newer_doc()
    doc["directives"] = [d for d in doc["directives"] if d["id"] != changed["directive"]]
    path = tmp_path / "b.tar.gz"
    path.write_bytes(bundle(key, doc))
    result = cli(tmp_path, "catalogue", "update", str(path))
    assert result.exit_code == 1, result.output  # installed, and the policy must be fixed
    assert f"directive {changed['directive']}, which your policy adopts, is no longer in the catalogue" \
        in result.output
    assert "Your policy does not load with this catalogue" in result.output


# -- installing atomically, and reading the installed bundle back -------------------------------------


def test_a_failure_mid_install_leaves_the_previous_one(tmp_path: Path, key: Ed25519PrivateKey, trust: Any,
                                                       data_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = tmp_path / "first.tar.gz"
    first.write_bytes(bundle(key, newer_doc("2099.1.0")[0]))
    assert cli(tmp_path, "catalogue", "update", str(first)).exit_code == 0
    second = tmp_path / "second.tar.gz"
    second.write_bytes(bundle(key))

    def fail_after_writing(src: Any, dst: Any) -> None:
        assert Path(src).read_bytes() == second.read_bytes()  # the whole new bundle was written beside it
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(channel.os, "replace", fail_after_writing)
    result = cli(tmp_path, "catalogue", "update", str(second))
    assert result.exit_code == 2 and "the previous one is unchanged" in result.output
    assert (data_home / channel.INSTALLED_FILE).read_bytes() == first.read_bytes()
    assert [p.name for p in data_home.iterdir()] == [channel.INSTALLED_FILE]  # no temporary file left
    load_catalogue.cache_clear()
    assert load_catalogue().version == "2099.1.0"


@pytest.mark.parametrize("damage", ["truncated on disk", "a byte flipped on disk", "key no longer trusted"])
def test_a_damaged_installed_bundle_falls_back_to_the_shipped_one_with_a_warning(
        damage: str, tmp_path: Path, key: Ed25519PrivateKey, trust: dict[str, Any], data_home: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    good = bundle(key)
    data_home.mkdir(parents=True)
    installed = data_home / channel.INSTALLED_FILE
    installed.write_bytes(good)
    assert load_catalogue().version == NEWER
    if damage == "truncated on disk":
        installed.write_bytes(good[:-100])
    elif damage == "a byte flipped on disk":
        installed.write_bytes(_tampered_catalogue(key))
    else:
        trust.clear()
        trust["test-2"] = Ed25519PrivateKey.generate().public_key()
    load_catalogue.cache_clear()
    with caplog.at_level(logging.WARNING, logger="interdit.catalogue"):
        cat = load_catalogue()
    assert cat.version == SHIPPED["version"]
    assert "the installed catalogue update is not used" in caplog.text and str(installed) in caplog.text
    info = cli(tmp_path, "catalogue", "info", "--format", "json")
    assert info.exit_code == 0
    state = json.loads(info.stdout)
    assert state["origin"] == "shipped" and state["installed"]["used"] is False and state["installed"]["problem"]


def test_an_installed_bundle_no_newer_than_the_shipped_one_is_not_used(key: Ed25519PrivateKey, trust: Any,
                                                                       data_home: Path) -> None:
    older = copy.deepcopy(SHIPPED)
    older["version"] = "2000.1.1"
    data_home.mkdir(parents=True)
    (data_home / channel.INSTALLED_FILE).write_bytes(bundle(key, older))
    chosen = channel.select(parse_catalogue(SHIPPED), data_path())
    assert chosen.origin == "shipped" and chosen.installed is not None and chosen.problem is None
    assert load_catalogue().version == SHIPPED["version"]


def test_an_installed_bundle_for_another_schema_is_idle_without_a_warning(
        key: Ed25519PrivateKey, trust: Any, data_home: Path, caplog: pytest.LogCaptureFixture) -> None:
    data_home.mkdir(parents=True)
    (data_home / channel.INSTALLED_FILE).write_bytes(_other_schema(key))  # left by another interdit release
    with caplog.at_level(logging.WARNING, logger="interdit.catalogue"):
        assert load_catalogue().version == SHIPPED["version"]
    assert caplog.text == ""
    chosen = channel.select(parse_catalogue(SHIPPED), data_path())
    assert chosen.origin == "shipped" and chosen.problem is not None and "schema" in chosen.problem


def test_the_data_folder_follows_xdg_data_home_else_the_home_folder(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert channel.data_folder() == tmp_path / "data" / "interdit" / "catalogue"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert channel.installed_path() == tmp_path / "home" / ".local/share/interdit/catalogue" / channel.INSTALLED_FILE


# -- the reader is a parser of hostile input ----------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> tuple[bytes, dict[str, Any], Any]:
    signer = Ed25519PrivateKey.generate()
    data = channel.build_bundle(encode(SHIPPED), signer, "test-1", built_at=BUILT)
    trusted = {"test-1": signer.public_key()}
    return data, trusted, channel.read_bundle(data, where="sample", trusted=trusted, full_check=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.floats(min_value=0, max_value=1, exclude_max=True), flip=st.integers(min_value=1, max_value=255),
       cut=st.booleans())
def test_any_damage_is_refused_or_changes_nothing(sample: tuple[bytes, dict[str, Any], Any], position: float,
                                                  flip: int, cut: bool) -> None:
    data, trusted, original = sample
    at = int(position * len(data))
    damaged = data[:at] if cut else data[:at] + bytes([data[at] ^ flip]) + data[at + 1:]
    try:
        got = channel.read_bundle(damaged, where="damaged", trusted=trusted, full_check=False)
    except channel.BundleError as exc:
        assert exc.reason in channel.REASONS and exc.fix
        return
    # only bytes that carry no content may change (gzip's header time, say): what is read is what was signed
    assert got.manifest == original.manifest and got.catalogue == original.catalogue


# -- the diff works on loaded catalogues ---------------------------------------------------------------


def test_the_diff_names_directives_families_and_identifiers() -> None:
    doc, changed = newer_doc()
    removed_family = next(f["id"] for f in reversed(doc["families"]) if f["id"] != changed["family"])
    doc["families"] = [f for f in doc["families"] if f["id"] != removed_family]
    for d in doc["directives"]:
        for version in (d, *d.get("amendments", ())):
            version["families"] = [f for f in version.get("families", ()) if f != removed_family]
    old, new = parse_catalogue(SHIPPED), parse_catalogue(doc)
    changes = diff(old, new)
    assert changes.directives_added == ("zz-2099-channel-test",)
    amended = {c.directive: c for c in changes.directives_amended}
    assert amended[changed["directive"]].fields[0] == "title"
    assert changes.families_removed == (removed_family,)
    family = changes.family(changed["family"])
    assert family is not None
    assert Item("identifier", changed["added"]) in family.added
    assert Item("identifier", changed["removed"]) in family.removed
    assert diff(old, parse_catalogue(SHIPPED)).empty
