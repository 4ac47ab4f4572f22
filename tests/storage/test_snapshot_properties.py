"""Property: over any sequence of snapshots, an app interval closes and a device leaves only on positive evidence
(the device seen, read cleanly, its whole app list shown, without the app), and a version change keeps the
presence (its first_seen, so the finding's id)."""

from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_fixtures import DAY, T0, TIKTOK, app, counted, dev

from interdit.inventory.base import Record, Tally
from interdit.model import CoverageReason, Rejection
from interdit.storage.repo import Repository, SnapshotRules

DEVICES = ("D0", "D1", "D2", "D3")
APPS = (TIKTOK.identifier, "com.microsoft.teams")
CHOICES = ("absent", "clean", "not_reported", "row_rejected", "app_rejected", "unnamed")
RULES = SnapshotRules(max_rejected=None, allow_shrink=True)  # the thresholds have tests of their own
_sources = itertools.count()

device_step = st.tuples(st.sampled_from(CHOICES),
                        st.dictionaries(st.sampled_from(APPS), st.sampled_from(("1", "2", None)), max_size=2))
snapshot = st.tuples(st.lists(device_step, min_size=len(DEVICES), max_size=len(DEVICES)), st.booleans())


def _records(source: str, steps: list[tuple[str, dict[str, str | None]]], unnamed_app: bool, k: int) -> list[Record]:
    at = T0 + k * DAY
    out: list[Record] = []
    for did, (choice, apps) in zip(DEVICES, steps, strict=True):
        if choice in ("clean", "app_rejected", "not_reported"):
            device = dev(did, at, source=source)
            if choice == "not_reported":
                out.append(replace(device, coverage_gap=CoverageReason.NOT_REPORTED))
                continue
            out.append(device)
            out.extend(app(did, a, v, observed=at, source=source) for a, v in apps.items())
            if choice == "app_rejected":
                out.append(Rejection(f"apps.csv:{k}", "unreadable", device_id=did, kind="app"))
        elif choice == "row_rejected":
            out.append(Rejection(f"devices.csv:{k}", "unreadable", device_id=did))
        elif choice == "unnamed":
            out.append(Rejection(f"devices.csv:{k}", "unreadable"))
    if unnamed_app:
        out.append(Rejection(f"apps.csv:{k}", "unreadable", kind="app"))
    return out


def _fleet(repo: Repository, source: str) -> dict[str, tuple[bool, CoverageReason | None, dict[str, tuple]]]:
    """Per known device: present?, its coverage gap, its open apps (identifier -> (first_seen, version))."""
    found = {}
    for did in DEVICES:
        detail = repo.device(source, did)
        if detail is None:
            continue
        found[did] = (detail.removed_at is None, detail.current.coverage_gap if detail.versions else None,
                      {a.app.identifier: (a.first_seen, a.version) for a in detail.apps if a.removed_at is None})
    return found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.lists(snapshot, min_size=1, max_size=5))
def test_only_positive_evidence_closes_an_app_or_removes_a_device(repo: Repository, snapshots: list) -> None:
    source = f"prop{next(_sources)}"
    for k, (steps, unnamed_app) in enumerate(snapshots):
        records = _records(source, steps, unnamed_app, k)
        before = _fleet(repo, source)
        tally = Tally()
        repo.import_snapshot(source, "test", counted(records, tally), tally, at=T0 + k * DAY, rules=RULES)
        after = _fleet(repo, source)
        staged = [c for c, _ in steps if c in ("clean", "app_rejected", "not_reported")]
        app_records = sum(len(a) for c, a in steps if c in ("clean", "app_rejected"))
        no_apps = app_records == 0 and len(staged) >= 3  # a source that listed no app at all is not believed
        removals_held = any(c == "unnamed" for c, _ in steps)
        for did, (choice, listed) in zip(DEVICES, steps, strict=True):
            if did not in before:
                continue
            was_present, _, was_open = before[did]
            present, gap, now_open = after[did]
            # a device leaves only when the snapshot could have read it and it was not there
            leaves = was_present and choice == "absent" and not removals_held
            assert present is not leaves or not was_present, (k, did, choice)
            if was_present and choice in ("row_rejected", "app_rejected", "unnamed"):
                assert gap is CoverageReason.UNREADABLE, (k, did, choice)
            if was_present and choice == "absent" and removals_held:
                assert gap is CoverageReason.UNREADABLE, (k, did, choice)
            evidence = choice == "clean" and not unnamed_app and not no_apps
            for identifier, (first_seen, _version) in was_open.items():
                closed = identifier not in now_open
                gone = leaves or (evidence and identifier not in listed)
                assert closed is gone, (k, did, choice, identifier)
                if not closed:  # the same presence, whatever its version did
                    assert now_open[identifier][0] == first_seen, (k, did, identifier)
            if choice in ("clean", "app_rejected"):
                assert {i: v for i, (_, v) in now_open.items() if i in listed} == listed, (k, did)
