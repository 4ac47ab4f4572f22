"""Analysis tests never see the machine's own signature data: each test gets an empty data folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_data_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("interdit-data")
    monkeypatch.setenv("INTERDIT_DATA_HOME", str(home))
    monkeypatch.delenv("INTERDIT_SDK_SIGNATURES", raising=False)
    return home
