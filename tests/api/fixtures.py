"""A real server over a sample fleet: two imports of the demo department, the demo policy, one account per role."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from interdit import fleet, pipeline
from interdit.server.app import create_app
from interdit.server.context import ServerOptions
from interdit.settings import Settings
from interdit.storage.accounts import AccountStore, Role

NOW = datetime(2023, 3, 15, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
ROLES = ("admin", "analyst", "auditor", "ingest")


def clock() -> datetime:
    return NOW


@dataclass
class Workspace:
    root: Path
    url: str
    policy: Path
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)


def build_workspace(root: Path, url: str, *, devices: int = 400) -> Workspace:
    """Import the demo fleet's two snapshots into `url` and create one account (and token) per role."""
    root.mkdir(parents=True, exist_ok=True)
    policy = root / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    repo = pipeline.open_repository(url)
    spec = fleet.FleetSpec(devices=devices, seed=7)
    for at, devices_csv, apps_csv in fleet.snapshots(spec, root / "fleet", fleet.DEMO_DATES):
        pipeline.import_inventory(repo, "csv", "mdm", [devices_csv, apps_csv], at=at, clock=lambda at=at: at)
    accounts = AccountStore(repo.engine, clock=clock)
    ws = Workspace(root, url, policy, Settings.resolve(db=url, policy=policy, environ={}))
    for role in ROLES:
        accounts.add(role, Role(role), None if role == "ingest" else PASSWORD)
        ws.tokens[role] = accounts.create_token(role, f"{role} token")[1]
    repo.engine.dispose()
    return ws


def options(tmp: Path, **extra: object) -> ServerOptions:
    values: dict[str, object] = {"secret": "test-secret-" + uuid.uuid4().hex, "upload_dir": tmp / "uploads",
                                 "cache_seconds": 0.0}
    values.update(extra)
    return ServerOptions(**values)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(ws: Workspace, **extra: object) -> Iterator[str]:
    """uvicorn on 127.0.0.1 and a free port, in a thread; yields the base URL."""
    import uvicorn

    app = create_app(ws.settings, clock=clock, options=options(ws.root, **extra))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:  # pragma: no cover - only when the server cannot start
        raise RuntimeError("the server did not start")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
