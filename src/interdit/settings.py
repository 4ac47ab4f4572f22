"""Configuration: command-line options first, then the environment, then defaults.

| setting      | option      | environment              | default              |
|--------------|-------------|--------------------------|----------------------|
| database URL | `--db`      | `INTERDIT_DATABASE_URL`  | `sqlite:///interdit.db` (in the working folder) |
| policy file  | `--policy`  | `INTERDIT_POLICY`        | `policy.yaml`        |
| language     | `--lang`    | `INTERDIT_LANG`          | the policy's, else `en` |
| catalogue URL | `catalogue update URL` | `INTERDIT_CATALOGUE_URL` | none (`{schema}` in it: the schema version) |
| schedule file | `worker --schedule` | `INTERDIT_SCHEDULE`     | `schedule.yaml`      |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from interdit.errors import ConfigError

LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class Settings:
    database_url: str
    policy_path: Path
    lang: str | None = None
    catalogue_url: str | None = None
    schedule_path: Path = Path("schedule.yaml")

    @classmethod
    def resolve(cls, *, db: str | None = None, policy: Path | None = None, lang: str | None = None,
                environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        url = db or env.get("INTERDIT_DATABASE_URL") or "sqlite:///interdit.db"
        if "://" not in url:  # a bare path is a SQLite file
            url = f"sqlite:///{url}"
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        chosen = lang or env.get("INTERDIT_LANG")
        if chosen is not None and chosen not in LANGUAGES:
            raise ConfigError(f"unknown language {chosen!r}", fix="use --lang en or --lang fr")
        return cls(url, policy or Path(env.get("INTERDIT_POLICY", "policy.yaml")), chosen,
                   env.get("INTERDIT_CATALOGUE_URL") or None, Path(env.get("INTERDIT_SCHEDULE") or "schedule.yaml"))


def env_flag(env: Mapping[str, str], key: str) -> bool:
    """A yes/no variable: `1`, `true` or `yes` (any case) is yes; anything else, or unset, is no."""
    return env.get(key, "").strip().lower() in ("1", "true", "yes")


def env_number(env: Mapping[str, str], key: str, *, low: float, high: float | None = None,
               whole: bool = True) -> float | None:
    """A number from the environment, None when unset or empty. A value that is not a number, or outside
    [low, high], stops the start with the variable's name and what it accepts (never a traceback)."""
    raw = env.get(key, "").strip()
    if not raw:
        return None
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = None
    accepted = f"{'a whole number' if whole else 'a number'} from {low:g}" + (f" to {high:g}" if high else " up")
    if value is None or value != value or value < low or (high is not None and value > high):
        raise ConfigError(f"{key}={raw!r} is not {accepted}", where=key, fix=f"set {key} to {accepted}, or unset it")
    return value

