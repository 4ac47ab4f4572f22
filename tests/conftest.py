"""Shared fixtures: a real PostgreSQL server for the session, and `db_url` over SQLite and PostgreSQL.

`postgres_url` starts a throwaway PostgreSQL cluster (initdb + pg_ctl from /usr/lib/postgresql/*/bin) in a
temporary folder, on a free port, with its unix socket in that folder too, and stops it at the end. Under
pytest-xdist each worker starts its own. The binaries come from the Debian `postgresql` package, which
`make test` installs (scripts/system-deps.sh). Each test asking for `db_url` gets a fresh database.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER_USER = "postgres"

# the catalogue in use is the shipped one: a catalogue update installed on this machine stays out of the tests
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="interdit-tests-data-")
atexit.register(shutil.rmtree, os.environ["XDG_DATA_HOME"], True)
# ... and what the tests compile (a scanned domain list's patterns) stays out of the user's cache
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="interdit-tests-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if not found:
        pytest.fail("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin: run 'make test' "
                    "(it installs them with scripts/system-deps.sh), or apt-get install postgresql", pytrace=False)
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    import pwd

    try:
        pwd.getpwnam(SERVER_USER)
        user = SERVER_USER
    except KeyError:
        user = "nobody"
    return ["runuser", "-u", user, "--", *args]


def _chown_to_server_user(path: Path) -> None:
    if os.geteuid() != 0:
        return
    import pwd

    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        entry = pwd.getpwnam("nobody")
    os.chown(path, entry.pw_uid, entry.pw_gid)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a running, throwaway PostgreSQL cluster's `postgres` database (superuser, trust auth)."""
    bindir = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="interdit-pg-"))
    _chown_to_server_user(root)
    data, log = root / "data", root / "server.log"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                    "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True, env=env, cwd=root)
    port = 0
    started = False
    for _attempt in range(3):
        port = _free_port()
        options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                   f"-c full_page_writes=off -c max_connections=60 -c shared_buffers=64MB")
        result = subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                                 str(log), "-w", "-t", "60", "start"]),
                                capture_output=True, env=env, cwd=root)
        if result.returncode == 0:
            started = True
            break
    if not started:
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL from {bindir}:\n{detail}", pytrace=False)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, env=env, cwd=root)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def postgres_db_url(postgres_url: str) -> Iterator[str]:
    """A fresh, empty database in the session's PostgreSQL cluster, dropped after the test."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with contextlib.suppress(Exception), psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL: a SQLite file, then a PostgreSQL database (each test runs on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'interdit.db'}"
    url: str = request.getfixturevalue("postgres_db_url")
    return url


# Hypothesis: random examples where a person runs the tests; the same examples every time under CI, so a run
# that lands is a run that can be repeated (a new counterexample is found locally, then kept as an example).
def _hypothesis_profiles() -> None:
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profiles()
