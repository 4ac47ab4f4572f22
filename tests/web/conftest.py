"""The dashboard tests share the server tests' workspace fixtures."""

from api.conftest import client, sqlite_ws, ws  # noqa: F401
