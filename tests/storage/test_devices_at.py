"""Who holds a finding's device: each device as it was at a date, read in batches, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import event
from storage_fixtures import DAY, T0, dev, do_import

from interdit.storage.repo import Repository


def test_each_device_as_it_was_at_the_date(repo: Repository) -> None:
    do_import(repo, [dev("D1", user="marie@dept.example"), dev("D2"), dev("D3")], T0)
    do_import(repo, [dev("D1", T0 + DAY, user="jean@dept.example"), dev("D2", T0 + DAY)], T0 + DAY)
    keys = [("mdm", "D1"), ("mdm", "D2"), ("mdm", "D3"), ("mdm", "nowhere"), ("other", "D1")]
    before = repo.devices_at(keys, T0 + DAY / 2)
    after = repo.devices_at(keys, T0 + 2 * DAY)
    assert before[("mdm", "D1")].user == "marie@dept.example"
    assert after[("mdm", "D1")].user == "jean@dept.example"  # the device changed hands the next day
    # D3 left the fleet on the second import: its last version still says whose it was
    assert after[("mdm", "D3")].name == "phone-D3" and after[("mdm", "D3")].model == "Pixel 7"
    assert set(after) == {("mdm", "D1"), ("mdm", "D2"), ("mdm", "D3")}  # unknown keys are absent, not guessed
    assert repo.devices_at(keys, T0 - DAY) == {}  # nothing was known yet
    assert after[("mdm", "D2")].os_version == "13" and after[("mdm", "D2")].org_unit == "/TBS/Finance"


def test_many_devices_are_read_in_a_few_queries(repo: Repository) -> None:
    do_import(repo, [dev(f"D{i:04d}") for i in range(1200)], T0)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "device_versions" in statement:
            statements.append(statement)

    event.listen(repo.engine, "before_cursor_execute", seen)
    try:
        found = repo.devices_at([("mdm", f"D{i:04d}") for i in range(1200)], T0 + DAY)
    finally:
        event.remove(repo.engine, "before_cursor_execute", seen)
    assert len(found) == 1200 and found[("mdm", "D0042")].name == "phone-D0042"
    assert len(statements) == 3  # 500 devices a query, never one query per device
