"""Configured MDM sources: a `sources.yaml` (or `.toml`) file, and credentials kept out of it.

    sources:
      intune-prod:
        type: intune
        tenant: contoso.onmicrosoft.com
        client_id: 11111111-2222-3333-4444-555555555555
        secret_file: /etc/interdit/intune-prod.secret   # mode 0600, or:
        # secret_env: INTERDIT_SECRET_INTUNE_PROD       # default variable name for this source

The file is `--sources PATH`, else `INTERDIT_SOURCES`, else `sources.yaml` in the working folder. A secret is
read from the variable (`secret_env`, default `INTERDIT_SECRET_<NAME>`), else from `secret_file`, which must not
be readable by the group or others. Secrets never go in the file itself.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interdit.errors import ConfigError

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
RESERVED = frozenset({"type", "secret_file", "secret_env", "limits"})
LIMIT_KEYS = ("attempts", "total_seconds", "backoff", "max_backoff", "max_retry_after", "max_body", "timeout")
SECRET_WORDS = ("secret", "password", "private_key", "token", "api_key")  # a key ending so holds a secret


@dataclass(frozen=True)
class SourceSpec:
    name: str
    type: str
    settings: Mapping[str, str] = field(default_factory=dict)
    secret_file: Path | None = None
    secret_env: str | None = None
    limits: Mapping[str, float] = field(default_factory=dict)

    @property
    def env_name(self) -> str:
        return self.secret_env or "INTERDIT_SECRET_" + re.sub(r"[^A-Z0-9]", "_", self.name.upper())


def sources_path(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return path or Path(env.get("INTERDIT_SOURCES", "sources.yaml"))


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    return y


def load_sources(path: Path) -> dict[str, SourceSpec]:
    """Every configured source; an absent file means none. Problems name the file and the fix."""
    if not path.exists():
        return {}
    text = path.read_text("utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else _yaml().load(text)
    except Exception as e:  # the parsers raise many types; all mean the same to the person
        raise ConfigError(f"cannot read the sources file ({str(e).splitlines()[0][:120]})", where=str(path),
                          fix="fix the syntax (YAML, or TOML for a .toml file)") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("sources", {}), dict):
        raise ConfigError("expected a mapping 'sources:' of source names", where=str(path),
                          fix="see docs/connectors.md for the format")
    out: dict[str, SourceSpec] = {}
    for name, entry in (data.get("sources") or {}).items():
        out[str(name)] = _spec(str(name), entry, path)
    return out


def _spec(name: str, entry: Any, path: Path) -> SourceSpec:
    where = f"{path}: sources.{name}"
    if not NAME.match(name):
        raise ConfigError(f"source name {name!r} is not allowed", where=where,
                          fix="use lowercase letters, digits, '.', '_' and '-' (e.g. intune-prod)")
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise ConfigError("a source needs a 'type'", where=where, fix="add e.g. 'type: intune'")
    settings: dict[str, str] = {}
    for key, value in entry.items():
        if key in RESERVED:
            continue
        if str(key).lower().endswith(SECRET_WORDS):
            raise ConfigError(f"{key!r} looks like a secret, and secrets do not go in the sources file", where=where,
                              fix="put it in a file readable only by you (secret_file: PATH, mode 0600) or in the "
                                  f"environment variable {SourceSpec(name, '').env_name}")
        if isinstance(value, dict | list):
            raise ConfigError(f"{key!r} must be a single value", where=where, fix="write it as key: value")
        settings[str(key)] = str(value).lower() if isinstance(value, bool) else str(value)
    limits: dict[str, float] = {}
    raw_limits = entry.get("limits") or {}
    if not isinstance(raw_limits, dict):
        raise ConfigError("'limits' must be a mapping", where=where, fix="e.g. limits: {attempts: 5}")
    for key, value in raw_limits.items():
        if key not in LIMIT_KEYS or isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"limit {key!r}: {value!r} is not allowed", where=where,
                              fix=f"use positive numbers for: {', '.join(LIMIT_KEYS)}")
        limits[str(key)] = float(value)
    secret_file = entry.get("secret_file")
    return SourceSpec(name, str(entry["type"]), settings, Path(str(secret_file)).expanduser() if secret_file else None,
                      str(entry["secret_env"]) if entry.get("secret_env") else None, limits)


def read_secret(spec: SourceSpec, environ: Mapping[str, str] | None = None) -> str | None:
    """The source's secret from its environment variable, else its file; None when neither is set."""
    env = os.environ if environ is None else environ
    if env.get(spec.env_name):
        return env[spec.env_name]
    if spec.secret_file is None:
        return None
    path = spec.secret_file
    try:
        st = path.stat()
    except OSError:
        raise ConfigError(f"the credentials file {path} cannot be read", where=f"source {spec.name}",
                          fix=f"check the path, or set {spec.env_name} instead") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"the credentials file {path} is readable by other users "
                          f"(mode {stat.S_IMODE(st.st_mode):04o})", where=f"source {spec.name}",
                          fix=f"chmod 600 {path}")
    if st.st_size > 64 * 1024:
        raise ConfigError(f"the credentials file {path} is over 64 KB", where=f"source {spec.name}",
                          fix="give the secret or the service-account key alone")
    return path.read_text("utf-8").strip()


def credentials_state(spec: SourceSpec, environ: Mapping[str, str] | None = None) -> str:
    """How the source's credentials are given, for `sources list` (never the secret)."""
    env = os.environ if environ is None else environ
    if env.get(spec.env_name):
        return f"environment {spec.env_name}"
    if spec.secret_file is None:
        return "missing"
    try:
        read_secret(spec, env)
    except ConfigError as e:
        return f"refused: {e.message}"
    return f"file {spec.secret_file}"


def add_source(path: Path, spec: SourceSpec, *, force: bool = False) -> None:
    """Add (or with `force` replace) a source in a YAML sources file, keeping the others."""
    text = sources_text(path, spec, force=force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)


def sources_text(path: Path, spec: SourceSpec, *, force: bool = False) -> str:
    """The sources file's text with `spec` added (or with `force` replaced); checks everything, writes nothing."""
    if path.suffix == ".toml":
        raise ConfigError("interdit writes YAML sources files only", where=str(path),
                          fix="add the entry to the TOML file by hand, or use a sources.yaml")
    _spec(spec.name, {"type": spec.type, **spec.settings}, path)  # the same checks as reading
    existing = load_sources(path)
    if spec.name in existing and not force:
        raise ConfigError(f"source {spec.name!r} already exists", where=str(path), fix="pass --force to replace it")
    data: dict[str, Any] = {"sources": {}}
    if path.exists():
        data = _yaml().load(path.read_text("utf-8")) or {"sources": {}}
        data.setdefault("sources", {})
    entry: dict[str, Any] = {"type": spec.type, **dict(spec.settings)}
    if spec.secret_file:
        entry["secret_file"] = str(spec.secret_file)
    if spec.secret_env:
        entry["secret_env"] = spec.secret_env
    if spec.limits:
        entry["limits"] = dict(spec.limits)
    data["sources"][spec.name] = entry
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return ("# interdit sources (docs/connectors.md); secrets live in secret_file or the environment\n"
            + buf.getvalue())
