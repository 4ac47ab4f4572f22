"""Compressed input is bounded by ratio and size, for inventories and logs alike, from the CLI too."""

from __future__ import annotations

import bz2
import gzip
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interdit.cli.main import app
from interdit.inflate import InflateLimit, allowed, bounded
from interdit.inventory._neutral import open_text
from interdit.network.scan import open_stream

HEADER = b"device_id,platform,ownership,management,observed_at\n"


def _gzip(path: Path, blank_mib: int, level: int = 9) -> Path:
    with gzip.open(path, "wb", compresslevel=level) as z:
        z.write(HEADER)
        for _ in range(blank_mib):
            z.write(b"\n" * (1 << 20))
    return path


def test_a_gzip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    bomb = _gzip(tmp_path / "devices.csv.gz", 200)
    assert bomb.stat().st_size < 400_000 and allowed(bomb.stat().st_size) < 200 * (1 << 20)
    with pytest.raises(InflateLimit, match="inflates to") as caught:
        open_text(bomb)
    assert caught.value.where == str(bomb)


def test_a_stream_without_a_trustworthy_size_stops_at_the_limit(tmp_path: Path) -> None:
    data = bz2.compress(b"x" * (80 << 20))  # bzip2 declares no size: the count stops it while reading
    path = tmp_path / "dns.log.bz2"
    path.write_bytes(data)
    stream, kind = open_stream(str(path))
    assert kind == "bzip2"
    with pytest.raises(InflateLimit):
        while stream.read(1 << 20):
            pass
    stream.close()


def test_ordinary_compressed_files_read_whole(tmp_path: Path) -> None:
    rows = b"".join(b"D%d,android,corporate,fully_managed,2023-03-01T00:00:00Z\n" % i for i in range(20_000))
    path = tmp_path / "devices.csv.gz"
    path.write_bytes(gzip.compress(HEADER + rows))
    fh, _ = open_text(path)
    with fh:
        assert fh.read().encode() == HEADER + rows
    reader = bounded(io.BytesIO(b"y" * 1000), compressed=10, where="x")
    assert reader.read() == b"y" * 1000


def test_the_limits_follow_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERDIT_MAX_INFLATED_MB", "1")
    path = tmp_path / "devices.csv.gz"
    path.write_bytes(gzip.compress(HEADER + b"\n" * (2 << 20)))
    with pytest.raises(InflateLimit, match="INTERDIT_MAX_INFLATED_MB"):
        open_text(path).read()


def test_the_cli_refuses_a_bomb_with_exit_2_and_imports_nothing(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    bomb = _gzip(tmp_path / "devices.csv.gz", 100)
    apps = tmp_path / "apps.csv"
    apps.write_text("device_id,platform,identifier,name,version,managed,observed_at\n")
    r = CliRunner().invoke(app, ["--db", db, "import", "csv", str(bomb), str(apps), "--source", "bomb"])
    assert r.exit_code == 2, r.output
    assert "inflates to" in r.output and "Traceback" not in r.output
    from interdit import pipeline

    repo = pipeline.open_repository(db)
    assert repo.present_by_source().get("bomb", (0, 0))[0] == 0
    assert [r.status for r in repo.import_runs()] == ["failed"]
