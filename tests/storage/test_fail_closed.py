"""Snapshots fail closed: a device the snapshot could not read is never taken for one that left, an app closes only
on positive evidence, and a snapshot that rejects too much or drops too many devices at once is refused whole."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

import pytest
from storage_fixtures import DAY, T0, TIKTOK, Count, app, counted, dev, do_import

from interdit.inventory.base import Record, Tally
from interdit.model import AppInterval, CoverageReason, Device, Management, Rejection
from interdit.storage.repo import ImportResult, RejectionLimit, Repository, SnapshotRefused, SnapshotRules

T1, T2, T3 = T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY
OPEN = SnapshotRules(max_rejected=None)  # every snapshot applies, whatever it rejected


def imp(repo: Repository, records: Iterable[Record], at: datetime, rules: SnapshotRules = OPEN,
        source: str = "mdm") -> ImportResult:
    tally = Tally()
    return repo.import_snapshot(source, "test", counted(records, tally), tally, at=at, rules=rules)


def bad_row(device_id: str | None, kind: str = "device", line: int = 3) -> Rejection:
    return Rejection(f"devices.csv:{line}", "not valid UTF-8 (byte 0xe9)", "save the file as UTF-8",
                     device_id=device_id, kind=kind)


def current(repo: Repository, device_id: str) -> tuple[Device, list[AppInterval], datetime | None]:
    detail = repo.device("mdm", device_id)
    assert detail is not None
    return detail.current, [a for a in detail.apps if a.removed_at is None], detail.removed_at


def states(repo: Repository, at: datetime) -> dict[str, tuple[Device, list[AppInterval]]]:
    return {s.device.device_id: (s.device, [a for a in s.apps if a.removed_at is None])
            for s in repo.device_states(at, (TIKTOK,), ())}


# -- the scenario: a device whose row could not be read is not a device that left -------------------------------


@pytest.mark.parametrize("named", [True, False], ids=["id-readable", "id-unreadable"])
def test_a_rejected_row_keeps_the_device_and_its_tiktok(repo: Repository, named: bool) -> None:
    imp(repo, [dev("A1"), app("A1", TIKTOK.identifier, "37.4.0"), dev("B1")], T0)
    # the same export saved again in Windows-1252: A1's row (an accent in its org unit) cannot be read
    second = imp(repo, [bad_row("A1" if named else None), dev("B1", T1)], T1)
    assert second.devices_removed == 0 and second.apps_closed == 0
    assert second.devices_unreadable == 1 and second.removals_held is (not named)
    device, apps, removed_at = current(repo, "A1")
    assert removed_at is None
    assert device.coverage_gap is CoverageReason.UNREADABLE and device.coverage[1] is CoverageReason.UNREADABLE
    assert device.org_unit == "/TBS/Finance" and device.observed_at == T0  # its last known state, as it was
    assert [(a.app, a.version, a.first_seen) for a in apps] == [(TIKTOK, "37.4.0", T0)]
    # evaluation reads it, with its violation, at the second snapshot's time
    held = states(repo, T1)["A1"]
    assert held[0].coverage_gap is CoverageReason.UNREADABLE and [a.app for a in held[1]] == [TIKTOK]
    assert states(repo, T0)["A1"][0].coverage_gap is None  # the past stays as it was
    # read cleanly again: the flag clears, TikTok still there with its first sighting
    third = imp(repo, [dev("A1", T2), app("A1", TIKTOK.identifier, "37.6.1"), dev("B1", T2)], T2)
    assert (third.devices_unreadable, third.apps_opened, third.apps_closed, third.apps_updated) == (0, 0, 0, 1)
    device, apps, _ = current(repo, "A1")
    assert device.coverage_gap is None and [(a.version, a.first_seen) for a in apps] == [("37.6.1", T0)]


def test_a_device_unreadable_twice_stays_one_flagged_version(repo: Repository, count: Count) -> None:
    imp(repo, [dev("A1"), app("A1", TIKTOK.identifier)], T0)
    imp(repo, [bad_row("A1")], T1)
    imp(repo, [bad_row("A1")], T2)
    detail = repo.device("mdm", "A1")
    assert detail is not None
    assert [(v.valid_from, v.valid_to, v.device.coverage_gap) for v in detail.versions] == [
        (T0, T1, None), (T1, None, CoverageReason.UNREADABLE)]
    assert detail.removed_at is None and count("device_versions") == 2


def test_a_device_absent_and_unnamed_by_any_rejection_is_removed(repo: Repository) -> None:
    imp(repo, [dev("A1"), app("A1", TIKTOK.identifier), dev("B1"), dev("C1")], T0)
    result = imp(repo, [bad_row("C1"), dev("B1", T1)], T1)  # A1 left; C1 unreadable
    assert (result.devices_removed, result.devices_unreadable, result.apps_closed) == (1, 1, 1)
    assert current(repo, "A1")[2] == T1 and current(repo, "C1")[2] is None


def test_an_unnamed_rejected_device_holds_every_removal(repo: Repository) -> None:
    imp(repo, [dev("A1"), app("A1", TIKTOK.identifier), dev("B1"), dev("C1")], T0)
    result = imp(repo, [bad_row(None), dev("B1", T1)], T1)
    assert result.removals_held and result.devices_removed == 0 and result.devices_unreadable == 2
    for device_id in ("A1", "C1"):
        device, _, removed_at = current(repo, device_id)
        assert removed_at is None and device.coverage_gap is CoverageReason.UNREADABLE
    assert current(repo, "B1")[0].coverage_gap is None
    assert [a.app for a in current(repo, "A1")[1]] == [TIKTOK]


def test_rejections_a_reader_counted_but_never_handed_over_fail_closed(repo: Repository) -> None:
    imp(repo, [dev("A1"), dev("B1")], T0)
    tally = Tally()
    tally.reject(Rejection("export.json:7", "truncated record"))  # counted, never yielded: its device unknown
    result = repo.import_snapshot("mdm", "test", counted([dev("B1", T1)], tally), tally, at=T1, rules=OPEN)
    assert result.removals_held and result.devices_removed == 0 and current(repo, "A1")[2] is None


def test_a_rejected_app_row_flags_the_device_and_closes_none_of_its_apps(repo: Repository) -> None:
    imp(repo, [dev("A1"), app("A1", TIKTOK.identifier), app("A1", "com.microsoft.teams")], T0)
    # TikTok's row could not be read this time; Teams is gone for real; WeChat arrived
    result = imp(repo, [dev("A1", T1), app("A1", "com.tencent.mm"), bad_row("A1", kind="app")], T1)
    assert (result.devices_unreadable, result.apps_closed, result.apps_opened) == (1, 0, 1)
    device, apps, _ = current(repo, "A1")
    assert device.coverage_gap is CoverageReason.UNREADABLE and device.observed_at == T1
    assert sorted(a.app.identifier for a in apps) == ["com.microsoft.teams", "com.tencent.mm", TIKTOK.identifier]
    # the next clean list is the evidence: Teams and TikTok close, and the device is clean again
    clean = imp(repo, [dev("A1", T2), app("A1", "com.tencent.mm")], T2)
    assert (clean.apps_closed, clean.devices_unreadable) == (2, 0)
    device, apps, _ = current(repo, "A1")
    assert device.coverage_gap is None and [a.app.identifier for a in apps] == ["com.tencent.mm"]


def test_an_unnamed_rejected_app_row_closes_no_app(repo: Repository) -> None:
    imp(repo, [dev("A1"), app("A1", TIKTOK.identifier), dev("B1"), app("B1", "com.microsoft.teams")], T0)
    result = imp(repo, [dev("A1", T1), dev("B1", T1), app("B1", "com.tencent.mm"), bad_row(None, kind="app")], T1)
    assert result.closes_held and result.apps_closed == 0 and result.apps_opened == 1
    assert [a.app for a in current(repo, "A1")[1]] == [TIKTOK]
    again = imp(repo, [dev("A1", T2), dev("B1", T2), app("B1", "com.tencent.mm")], T2)
    assert again.apps_closed == 2  # read cleanly: now the lists are evidence


# -- an app list that does not show the whole device closes nothing ---------------------------------------------


def test_a_device_that_reported_no_app_list_keeps_its_apps(repo: Repository) -> None:
    imp(repo, [dev("A1"), app("A1", TIKTOK.identifier)], T0)
    quiet = replace(dev("A1", T1), coverage_gap=CoverageReason.NOT_REPORTED)
    assert imp(repo, [quiet], T1).apps_closed == 0
    assert current(repo, "A1")[0].coverage_gap is CoverageReason.NOT_REPORTED
    # a device that became a work profile shows only its work side: the personal TikTok is not gone
    work = replace(dev("A1", T2), management=Management.WORK_PROFILE)
    assert imp(repo, [work, app("A1", "com.microsoft.teams")], T2).apps_closed == 0
    assert sorted(a.app.identifier for a in current(repo, "A1")[1]) == ["com.microsoft.teams", TIKTOK.identifier]
    # the same work-profile view again, without Teams: TikTok was never seen in that view, so that view is no
    # evidence about it, nor, while it is kept, about the rest
    result = imp(repo, [replace(dev("A1", T3), management=Management.WORK_PROFILE)], T3)
    assert result.apps_closed == 0 and len(current(repo, "A1")[1]) == 2


def test_a_work_profile_that_drops_a_work_app_closes_it(repo: Repository) -> None:
    work = replace(dev("A1"), management=Management.WORK_PROFILE)
    imp(repo, [work, app("A1", "com.microsoft.teams"), app("A1", "com.tencent.mm")], T0)
    imp(repo, [replace(work, observed_at=T1), app("A1", "com.microsoft.teams"), app("A1", "com.tencent.mm", "2")], T1)
    result = imp(repo, [replace(work, observed_at=T2), app("A1", "com.microsoft.teams")], T2)
    assert result.apps_closed == 1 and [a.app.identifier for a in current(repo, "A1")[1]] == ["com.microsoft.teams"]


def test_the_same_partial_view_twice_is_evidence_a_narrower_one_is_not(repo: Repository) -> None:
    unknown = replace(dev("A1"), management=Management.UNKNOWN)  # e.g. a source that did not say
    imp(repo, [unknown, app("A1", TIKTOK.identifier), app("A1", "com.microsoft.teams")], T0)
    result = imp(repo, [replace(unknown, observed_at=T1), app("A1", "com.microsoft.teams")], T1)
    assert result.apps_closed == 1 and [a.app.identifier for a in current(repo, "A1")[1]] == ["com.microsoft.teams"]
    # unenrolled: the source now sees nothing of the device, which proves nothing about Teams
    gone_dark = replace(unknown, observed_at=T2, management=Management.UNMANAGED)
    assert imp(repo, [gone_dark], T2).apps_closed == 0
    assert imp(repo, [replace(gone_dark, observed_at=T3)], T3).apps_closed == 0
    assert [a.app.identifier for a in current(repo, "A1")[1]] == ["com.microsoft.teams"]


def test_a_source_with_no_app_at_all_is_flagged_unless_it_says_so(repo: Repository) -> None:
    imp(repo, [dev("A1"), app("A1", TIKTOK.identifier), dev("B1"), dev("C1")], T0)
    result = imp(repo, [dev("A1", T1), dev("B1", T1), dev("C1", T1)], T1)
    assert (result.devices_no_apps, result.apps_closed) == (3, 0)
    device, apps, _ = current(repo, "A1")
    assert device.coverage_gap is CoverageReason.NO_APPS_REPORTED and [a.app for a in apps] == [TIKTOK]
    # a source that lists devices without apps on purpose
    expected = SnapshotRules(max_rejected=None, empty_app_lists_expected=True)
    result = imp(repo, [dev("A1", T2), dev("B1", T2), dev("C1", T2)], T2, expected)
    assert (result.devices_no_apps, result.apps_closed) == (0, 1)
    assert current(repo, "A1")[0].coverage_gap is None and current(repo, "A1")[1] == []


def test_a_small_snapshot_without_apps_is_not_flagged(repo: Repository) -> None:
    result = imp(repo, [dev("A1"), dev("B1")], T0)
    assert result.devices_no_apps == 0 and current(repo, "A1")[0].coverage_gap is None


def test_unmanaged_devices_without_apps_are_not_flagged(repo: Repository) -> None:
    known = [replace(dev(d), management=Management.UNMANAGED) for d in ("A1", "B1", "C1")]
    result = imp(repo, [*known, dev("D1")], T0)
    assert result.devices_no_apps == 1 and current(repo, "A1")[0].coverage_gap is None
    assert current(repo, "D1")[0].coverage_gap is CoverageReason.NO_APPS_REPORTED


def test_a_reader_gap_is_kept_as_the_reader_said(repo: Repository) -> None:
    noted = [replace(dev(d), coverage_gap=CoverageReason.APP_REPORTS_DISABLED) for d in ("A1", "B1", "C1")]
    result = imp(repo, noted, T0)
    assert result.devices_no_apps == 0
    assert current(repo, "B1")[0].coverage_gap is CoverageReason.APP_REPORTS_DISABLED


# -- refusals: nothing changes ----------------------------------------------------------------------------------


def _stored(repo: Repository, count: Count) -> tuple[object, ...]:
    return (tuple(count(n) for n in ("devices", "device_versions", "app_intervals", "app_versions")),
            sorted((d.device.device_id, d.device.coverage_gap, len(d.apps)) for d in repo.device_states(
                T3, (TIKTOK,), ())))


def test_too_many_rejections_refuse_the_whole_snapshot(repo: Repository, count: Count) -> None:
    imp(repo, [dev(f"D{i}") for i in range(20)] + [app("D1", TIKTOK.identifier)], T0)
    before = _stored(repo, count)
    rows = [dev(f"D{i}", T1) for i in range(2, 20)] + [bad_row("D0", line=2), bad_row("D1", line=3)]
    with pytest.raises(SnapshotRefused) as info:  # 2 of 20 is 10 %, over the default 1 %
        imp(repo, rows, T1, SnapshotRules())
    message = str(info.value)
    assert "2 of 20 records" in message and "1 % of the records read" in message
    assert "devices.csv:2" in message and "--max-rejected" in (info.value.fix or "")
    assert _stored(repo, count) == before
    assert [r.status for r in repo.import_runs()] == ["refused", "ok"]
    with pytest.raises(SnapshotRefused) as info:
        imp(repo, rows, T1, SnapshotRules(max_rejected=RejectionLimit(count=1, percent=None)))
    assert "limit of 1 records" in str(info.value)
    applied = imp(repo, rows, T1, SnapshotRules(max_rejected=RejectionLimit(count=2, percent=None)))
    assert applied.devices_unreadable == 2 and applied.devices_removed == 0
    assert imp(repo, rows, T2, SnapshotRules(max_rejected=RejectionLimit(percent=10.0))).devices_removed == 0


def test_a_snapshot_that_drops_too_many_devices_is_held(repo: Repository, count: Count) -> None:
    imp(repo, [dev(f"D{i}") for i in range(10)], T0)
    before = _stored(repo, count)
    with pytest.raises(SnapshotRefused) as info:
        imp(repo, [dev(f"D{i}", T1) for i in range(7)], T1)  # 3 of 10 gone at once
    assert "3 of the 10 devices" in str(info.value) and "--allow-shrink" in (info.value.fix or "")
    assert _stored(repo, count) == before
    assert imp(repo, [dev(f"D{i}", T1) for i in range(8)], T1).devices_removed == 2  # a fifth is allowed
    confirmed = imp(repo, [dev(f"D{i}", T2) for i in range(3)], T2, replace(OPEN, allow_shrink=True))
    assert confirmed.devices_removed == 5


def test_a_small_source_may_shrink(repo: Repository) -> None:
    imp(repo, [dev(f"D{i}") for i in range(9)], T0)
    assert imp(repo, [dev("D0", T1)], T1).devices_removed == 8


# -- what is stored round-trips ---------------------------------------------------------------------------------


def test_coverage_gap_and_org_labels_round_trip_and_count_as_changes(repo: Repository) -> None:
    labels = (("category", "Direction des RH"), ("site", "Québec"), ("enrollment_data", 'dept="finance"'))
    a1 = replace(dev("A1"), coverage_gap=CoverageReason.DISPLAY_NAMES_ONLY, org_labels=labels)
    do_import(repo, [a1, dev("B1")], T0)
    read = states(repo, T0)
    assert read["A1"][0] == a1 and read["B1"][0].org_labels == () and read["B1"][0].coverage_gap is None
    detail = repo.device("mdm", "A1")
    assert detail is not None and detail.current == a1
    moved = replace(a1, observed_at=T1, org_labels=(("category", "Direction des finances"),))
    result = do_import(repo, [moved, dev("B1", T1)], T1)
    assert result.devices_changed == 1
    assert states(repo, T1)["A1"][0] == moved and states(repo, T0)["A1"][0] == a1
