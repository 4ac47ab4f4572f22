"""The SQL of an import: the staging tables it streams a snapshot into, and the set-based steps that apply it
(one dictionary of statements per dialect). `snapshot` runs them in order."""

from __future__ import annotations

import re
from collections.abc import Sequence

from interdit.model import CoverageReason, Management

# -- staging and diff SQL ---------------------------------------------------------------------------
#
# An import streams the snapshot into temporary staging tables, then applies it with set-based SQL:
#   stage_devices  one row per device (the last record of a device wins)
#   stage_apps     one row per app on a device (SQLite: keyed, the last record wins; PostgreSQL: every record
#                  in stream order, the last one picked when applied)
#   stage_digests  per device, a digest of its app records, computed while streaming
#   stage_rejected the devices a rejected record named (device or app record): unreadable in this snapshot
# Apps are diffed only for the devices whose digest differs from the one stored with the device (new,
# returning and changed devices), so re-importing a mostly unchanged fleet touches few rows.
#
# Failing closed: a device absent from the snapshot is removed only when the snapshot could have read it (no
# rejected record names it, and no rejected device record went unnamed); otherwise it keeps its last state,
# flagged `unreadable`. An app interval closes only on positive evidence: the device read cleanly, with an app
# list that shows the whole device (or the same partial view as before), without the app (`closable_devices`).
# A device whose app list was not complete keeps its apps open and no digest, so the next snapshot diffs it.

DEVICE_STAGE_COLUMNS = ("device_id", "platform", "ownership", "management", "observed_at", "supervised", '"user"',
                        "name", "model", "os_version", "org_unit", '"groups"', "addresses", "coverage_gap",
                        "org_labels")
APP_STAGE_COLUMNS = ("device_id", "platform", "identifier", "name", "version", "managed", "state")
_DEVICE_ATTRS = ("platform", "ownership", "management", "supervised", '"user"', "name", "model", "os_version",
                 "org_unit", '"groups"', "addresses", "coverage_gap", "org_labels")
_VERSION_COLUMNS = ", ".join(c for c in DEVICE_STAGE_COLUMNS if c != "device_id")
_APP_COLUMNS = ", ".join(APP_STAGE_COLUMNS)
TEMP_TABLES = ("stage_devices_raw", "stage_devices", "stage_apps", "stage_digests", "stage_rejected",
                "changed_devices", "changed_apps", "closable_devices", "kept_devices", "moved_apps")
# the gaps that mean the source gave no usable app list for the device: its apps are never closed by it
_NO_LIST = tuple(g.value for g in (CoverageReason.NOT_REPORTED, CoverageReason.APP_REPORTS_DISABLED,
                                   CoverageReason.NO_APPS_REPORTED, CoverageReason.UNREADABLE))
UNREADABLE = CoverageReason.UNREADABLE.value
NO_APPS = CoverageReason.NO_APPS_REPORTED.value

SQLITE_STAGING = (
    *(f"DROP TABLE IF EXISTS temp.{name}" for name in TEMP_TABLES),
    'CREATE TEMP TABLE stage_devices (device_id TEXT PRIMARY KEY NOT NULL, platform TEXT NOT NULL, '
    'ownership TEXT NOT NULL, management TEXT NOT NULL, observed_at TEXT NOT NULL, supervised INTEGER, '
    '"user" TEXT, name TEXT, model TEXT, os_version TEXT, org_unit TEXT, "groups" TEXT NOT NULL, '
    'addresses TEXT NOT NULL, coverage_gap TEXT, org_labels TEXT NOT NULL) WITHOUT ROWID',
    "CREATE TEMP TABLE stage_apps (device_id TEXT NOT NULL, platform TEXT NOT NULL, identifier TEXT NOT NULL, "
    "name TEXT, version TEXT, managed INTEGER, state TEXT NOT NULL, "
    "PRIMARY KEY (device_id, platform, identifier)) WITHOUT ROWID",
    "CREATE TEMP TABLE stage_digests (device_id TEXT PRIMARY KEY NOT NULL, digest INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TEMP TABLE stage_rejected (device_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID",
    "CREATE TEMP TABLE changed_devices (device_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID",
    "CREATE TEMP TABLE closable_devices (device_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID",
    "CREATE TEMP TABLE kept_devices (device_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID",
    "CREATE TEMP TABLE moved_apps (device_id TEXT NOT NULL, platform TEXT NOT NULL, identifier TEXT NOT NULL, "
    "first_seen TEXT NOT NULL, old_version TEXT, version TEXT, managed INTEGER, name TEXT, state TEXT NOT NULL, "
    "PRIMARY KEY (device_id, platform, identifier)) WITHOUT ROWID",
)
# PostgreSQL's app staging table (temporary, or the unlogged table of `pg_stage`): every record, `seq` keeps the
# stream's order (the last record of an app listed twice wins)
PG_STAGE_APPS = ("(seq bigint GENERATED ALWAYS AS IDENTITY, device_id text NOT NULL, platform text NOT NULL, "
                 "identifier text NOT NULL, name text, version text, managed boolean, state text NOT NULL)")
PG_STAGING = (
    "DROP TABLE IF EXISTS " + ", ".join(f"pg_temp.{name}" for name in TEMP_TABLES),
    'CREATE TEMP TABLE stage_devices_raw (seq bigint GENERATED ALWAYS AS IDENTITY, device_id text NOT NULL, '
    'platform text NOT NULL, ownership text NOT NULL, management text NOT NULL, '
    'observed_at timestamptz NOT NULL, supervised boolean, "user" text, name text, model text, os_version text, '
    'org_unit text, "groups" text NOT NULL, addresses text NOT NULL, coverage_gap text, '
    'org_labels text NOT NULL) ON COMMIT DROP',
    f"CREATE TEMP TABLE stage_apps {PG_STAGE_APPS} ON COMMIT DROP",
    "CREATE TEMP TABLE stage_digests (device_id text PRIMARY KEY, digest bigint NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE stage_rejected (device_id text PRIMARY KEY) ON COMMIT DROP",
    "CREATE TEMP TABLE changed_devices (device_id text PRIMARY KEY) ON COMMIT DROP",
    "CREATE TEMP TABLE closable_devices (device_id text PRIMARY KEY) ON COMMIT DROP",
    "CREATE TEMP TABLE kept_devices (device_id text PRIMARY KEY) ON COMMIT DROP",
    "CREATE TEMP TABLE moved_apps (device_id text NOT NULL, platform text NOT NULL, identifier text NOT NULL, "
    "first_seen timestamptz NOT NULL, old_version text, version text, managed boolean, name text, "
    "state text NOT NULL, PRIMARY KEY (device_id, platform, identifier)) ON COMMIT DROP",
    "CREATE TEMP TABLE changed_apps (device_id text NOT NULL, platform text NOT NULL, identifier text NOT NULL, "
    "name text, version text, managed boolean, state text NOT NULL, "
    "PRIMARY KEY (device_id, platform, identifier)) ON COMMIT DROP",
)
PG_AFTER_STAGING = (
    "CREATE TEMP TABLE stage_devices ON COMMIT DROP AS SELECT DISTINCT ON (device_id) "
    + ", ".join(DEVICE_STAGE_COLUMNS) + " FROM stage_devices_raw ORDER BY device_id, seq DESC",
    "ALTER TABLE stage_devices ADD PRIMARY KEY (device_id)",
    "ANALYZE stage_devices",
    "ANALYZE stage_apps",
    "ANALYZE stage_digests",
)

_OPEN_VERSION_OBSERVED = ("(SELECT v.observed_at FROM device_versions v WHERE v.source = :s "
                          "AND v.device_id = app_intervals.device_id AND v.valid_to IS NULL)")
_INSERT_APPS = ("INSERT INTO app_intervals (source, device_id, platform, identifier, name, version, managed, state, "
                "first_seen) ")


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _diff_sql(dialect: str, unique: bool = False) -> dict[str, str]:
    """The set-based steps of an import, for one dialect. `unique`: no app record was staged twice, so the
    last record of each needs no picking (PostgreSQL stages them all)."""
    ne = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"  # null-safe "differs"
    same_app = ("sa.device_id = {t}.device_id AND sa.platform = {t}.platform AND sa.identifier = {t}.identifier")
    app_same = same_app.format(t="app_intervals")
    version_moved = f"m.version {ne} m.old_version"
    moved_same = same_app.format(t="app_intervals").replace("sa.", "m.")
    attrs_differ = " OR ".join(f"sd.{c} {ne} device_versions.{c}" for c in _DEVICE_ATTRS)
    if dialect == "sqlite":  # stage_apps holds the last record of each app already (INSERT OR REPLACE)
        apps_of_changed = "stage_apps"
        open_all = _INSERT_APPS + f"SELECT :s, {_APP_COLUMNS}, :at FROM stage_apps"
        changed_apps = ""
    elif unique:  # one record per app: taken as staged, no sort
        apps_of_changed = "changed_apps"
        open_all = _INSERT_APPS + f"SELECT :s, {_APP_COLUMNS}, :at FROM stage_apps"
        changed_apps = (f"INSERT INTO changed_apps SELECT {_APP_COLUMNS} FROM stage_apps "
                        "WHERE device_id IN (SELECT device_id FROM changed_devices)")
    else:  # the last record of each app wins
        apps_of_changed = "changed_apps"
        open_all = (_INSERT_APPS + f"SELECT DISTINCT ON (device_id, platform, identifier) :s, {_APP_COLUMNS}, "
                    ":at FROM stage_apps ORDER BY device_id, platform, identifier, seq DESC")
        changed_apps = (f"INSERT INTO changed_apps SELECT DISTINCT ON (device_id, platform, identifier) "
                        f"{_APP_COLUMNS} FROM stage_apps WHERE device_id IN (SELECT device_id FROM changed_devices) "
                        "ORDER BY device_id, platform, identifier, seq DESC")
    steps = {
        "unreadable_staged": f"UPDATE stage_devices SET coverage_gap = '{UNREADABLE}' "
                             "WHERE device_id IN (SELECT device_id FROM stage_rejected)",
        # an unmanaged device shows no app anyway: only the devices whose source should list apps are flagged
        "no_apps_staged": f"UPDATE stage_devices SET coverage_gap = '{NO_APPS}' WHERE coverage_gap IS NULL "
                          f"AND management <> '{Management.UNMANAGED.value}'",
        "present": "SELECT count(*) FROM devices WHERE source = :s AND removed_at IS NULL",
        "devices_new": "INSERT INTO devices (source, device_id, first_seen) SELECT :s, sd.device_id, :at "
                       "FROM stage_devices sd WHERE NOT EXISTS (SELECT 1 FROM devices d "
                       "WHERE d.source = :s AND d.device_id = sd.device_id)",
        "devices_back": "UPDATE devices SET removed_at = NULL WHERE source = :s AND removed_at IS NOT NULL "
                        "AND device_id IN (SELECT device_id FROM stage_devices)",
        "devices_removed": "UPDATE devices SET removed_at = :at, apps_digest = NULL WHERE source = :s "
                           "AND removed_at IS NULL AND device_id NOT IN (SELECT device_id FROM stage_devices) "
                           "AND device_id NOT IN (SELECT device_id FROM stage_rejected)",
        "apps_of_removed": f"UPDATE app_intervals SET removed_at = :at, last_seen = {_OPEN_VERSION_OBSERVED} "
                           "WHERE source = :s AND removed_at IS NULL AND device_id IN "
                           "(SELECT device_id FROM devices WHERE source = :s AND removed_at = :at)",
        "versions_of_removed": "UPDATE device_versions SET valid_to = :at WHERE source = :s AND valid_to IS NULL "
                               "AND device_id IN (SELECT device_id FROM devices WHERE source = :s "
                               "AND removed_at = :at)",
        # present, absent from the snapshot, not removed: kept with their last state, flagged unreadable
        "kept": "INSERT INTO kept_devices SELECT device_id FROM devices WHERE source = :s AND removed_at IS NULL "
                "AND device_id NOT IN (SELECT device_id FROM stage_devices)",
        "kept_close": "UPDATE device_versions SET valid_to = :at WHERE source = :s AND valid_to IS NULL "
                      f"AND coverage_gap {ne} '{UNREADABLE}' "
                      "AND device_id IN (SELECT device_id FROM kept_devices)",
        "kept_open": f"INSERT INTO device_versions (source, device_id, valid_from, {_VERSION_COLUMNS}) "
                     "SELECT source, device_id, :at, "
                     + ", ".join(f"'{UNREADABLE}'" if c == "coverage_gap" else c
                                 for c in DEVICE_STAGE_COLUMNS if c != "device_id")
                     + " FROM device_versions v WHERE source = :s AND valid_to = :at AND valid_from = "
                     "(SELECT max(w.valid_from) FROM device_versions w WHERE w.source = :s "
                     "AND w.device_id = v.device_id AND w.valid_to = :at) "
                     "AND device_id IN (SELECT device_id FROM kept_devices) AND NOT EXISTS (SELECT 1 "
                     "FROM device_versions o WHERE o.source = :s AND o.device_id = v.device_id "
                     "AND o.valid_to IS NULL)",
        "apps_open_all": open_all,
        "digests_all": "UPDATE devices SET apps_digest = COALESCE((SELECT g.digest FROM stage_digests g "
                       "WHERE g.device_id = devices.device_id), 0) WHERE source = :s "
                       "AND device_id IN (SELECT device_id FROM stage_devices)",
        "changed_devices": "INSERT INTO changed_devices SELECT sd.device_id FROM stage_devices sd "
                           "JOIN devices d ON d.source = :s AND d.device_id = sd.device_id "
                           "LEFT JOIN stage_digests g ON g.device_id = sd.device_id "
                           "WHERE d.apps_digest IS NULL OR d.apps_digest <> COALESCE(g.digest, 0)",
        "changed_apps": changed_apps,
        # positive evidence of removal: read cleanly, an app list of the whole device, or of the same partial
        # view as the stored version (same management, same gap) whose open apps were all seen in that view (a
        # stored digest), without the app; a device with no open app has nothing to close, its digest is kept
        "closable": "INSERT INTO closable_devices SELECT sd.device_id FROM stage_devices sd "
                    "JOIN devices d ON d.source = :s AND d.device_id = sd.device_id "
                    "WHERE sd.device_id IN (SELECT device_id FROM changed_devices) "
                    "AND (NOT EXISTS (SELECT 1 FROM app_intervals a WHERE a.source = :s "
                    "AND a.device_id = sd.device_id AND a.removed_at IS NULL) "
                    f"OR ((sd.coverage_gap IS NULL OR sd.coverage_gap NOT IN ({_quoted(_NO_LIST)})) "
                    f"AND ((sd.coverage_gap IS NULL AND sd.management = '{Management.FULLY_MANAGED.value}') "
                    "OR (d.apps_digest IS NOT NULL AND EXISTS (SELECT 1 FROM device_versions v WHERE v.source = :s "
                    "AND v.device_id = sd.device_id AND v.valid_to IS NULL AND v.management = sd.management "
                    f"AND NOT (v.coverage_gap {ne} sd.coverage_gap))))))",
        "apps_close": f"UPDATE app_intervals SET removed_at = :at, last_seen = {_OPEN_VERSION_OBSERVED} "
                      "WHERE source = :s AND removed_at IS NULL "
                      "AND device_id IN (SELECT device_id FROM closable_devices) "
                      f"AND NOT EXISTS (SELECT 1 FROM {apps_of_changed} sa WHERE {app_same})",
        # a new version or state within the same presence, found once: the open intervals of the changed
        # devices whose app record differs (the presence stays; what moved is written in place)
        "moved": "INSERT INTO moved_apps SELECT a.device_id, a.platform, a.identifier, a.first_seen, "
                 "a.version, sa.version, sa.managed, sa.name, sa.state "
                 f"FROM app_intervals a JOIN {apps_of_changed} sa ON {same_app.format(t='a')} "
                 "WHERE a.source = :s AND a.removed_at IS NULL "
                 "AND a.device_id IN (SELECT device_id FROM changed_devices) AND ("
                 + " OR ".join(f"sa.{c} {ne} a.{c}" for c in ("version", "managed", "name", "state")) + ")",
        # a new version: the version it had so far is kept as evidence first, then the new one from now
        "app_versions_prior": "INSERT INTO app_versions (source, device_id, platform, identifier, first_seen, "
                              "interval_first_seen, version) SELECT :s, m.device_id, m.platform, m.identifier, "
                              f"m.first_seen, m.first_seen, m.old_version FROM moved_apps m WHERE {version_moved} "
                              "AND NOT EXISTS (SELECT 1 FROM app_versions x WHERE x.source = :s "
                              "AND x.device_id = m.device_id AND x.platform = m.platform "
                              "AND x.identifier = m.identifier AND x.interval_first_seen = m.first_seen)",
        "app_versions_new": "INSERT INTO app_versions (source, device_id, platform, identifier, first_seen, "
                            "interval_first_seen, version) SELECT :s, m.device_id, m.platform, m.identifier, :at, "
                            f"m.first_seen, m.version FROM moved_apps m WHERE {version_moved} "
                            "AND NOT EXISTS (SELECT 1 FROM app_versions x WHERE x.source = :s "
                            "AND x.device_id = m.device_id AND x.platform = m.platform "
                            "AND x.identifier = m.identifier AND x.first_seen = :at)",
        "app_versions_redo": "UPDATE app_versions SET version = m.version FROM moved_apps m "
                             "WHERE app_versions.source = :s AND app_versions.first_seen = :at "
                             "AND app_versions.device_id = m.device_id AND app_versions.platform = m.platform "
                             f"AND app_versions.identifier = m.identifier AND {version_moved}",
        # row by row from moved_apps (an UPDATE ... FROM lets SQLite scan the source's every interval instead)
        "apps_update": "UPDATE app_intervals SET "
                       + ", ".join(f"{c} = (SELECT m.{c} FROM moved_apps m WHERE {moved_same})"
                                   for c in ("version", "managed", "name", "state"))
                       + " WHERE source = :s AND (device_id, platform, identifier, first_seen) IN "
                       "(SELECT device_id, platform, identifier, first_seen FROM moved_apps)",
        "apps_open": _INSERT_APPS + "SELECT :s, sa.device_id, sa.platform, sa.identifier, sa.name, sa.version, "
                     f"sa.managed, sa.state, :at FROM {apps_of_changed} sa WHERE sa.device_id IN "
                     "(SELECT device_id FROM changed_devices) AND NOT EXISTS (SELECT 1 FROM app_intervals a "
                     "WHERE a.source = :s AND a.device_id = sa.device_id AND a.platform = sa.platform "
                     "AND a.identifier = sa.identifier AND a.removed_at IS NULL)",
        "digests_changed": "UPDATE devices SET apps_digest = COALESCE((SELECT g.digest FROM stage_digests g "
                           "WHERE g.device_id = devices.device_id), 0) WHERE source = :s "
                           "AND device_id IN (SELECT device_id FROM closable_devices)",
        # apps kept open beyond the device's list: no digest, so the next snapshot diffs the device again
        "digests_unclosed": "UPDATE devices SET apps_digest = NULL WHERE source = :s "
                            "AND device_id IN (SELECT device_id FROM changed_devices) "
                            "AND device_id NOT IN (SELECT device_id FROM closable_devices)",
        "devices_changed": "SELECT count(*) FROM device_versions WHERE source = :s AND valid_to IS NULL "
                           "AND EXISTS (SELECT 1 FROM stage_devices sd WHERE sd.device_id = device_versions.device_id "
                           f"AND ({attrs_differ}))",
        "versions_close": "UPDATE device_versions SET valid_to = :at WHERE source = :s AND valid_to IS NULL "
                          "AND EXISTS (SELECT 1 FROM stage_devices sd WHERE sd.device_id = device_versions.device_id "
                          f"AND ({attrs_differ} OR sd.observed_at {ne} device_versions.observed_at))",
        "versions_open": f"INSERT INTO device_versions (source, device_id, valid_from, {_VERSION_COLUMNS}) "
                         "SELECT :s, sd.device_id, :at, "
                         + ", ".join(f"sd.{c}" for c in DEVICE_STAGE_COLUMNS if c != "device_id")
                         + " FROM stage_devices sd WHERE NOT EXISTS (SELECT 1 FROM device_versions v "
                         "WHERE v.source = :s AND v.device_id = sd.device_id AND v.valid_to IS NULL)",
        "zero_apps": "DELETE FROM app_intervals WHERE source = :s AND first_seen = :at AND removed_at = :at",
        "zero_versions": "DELETE FROM device_versions WHERE source = :s AND valid_from = :at AND valid_to = :at",
        "zero_devices": "DELETE FROM devices WHERE source = :s AND first_seen = :at AND removed_at = :at "
                        "AND NOT EXISTS (SELECT 1 FROM device_versions v WHERE v.source = :s "
                        "AND v.device_id = devices.device_id)",
    }
    if dialect == "postgresql":  # give the parameters their types (PostgreSQL cannot always deduce them)
        steps = {k: re.sub(r":at\b", "CAST(:at AS timestamptz)", re.sub(r":s\b", "CAST(:s AS text)", v))
                 for k, v in steps.items()}
    return steps

SQL = {"sqlite": _diff_sql("sqlite"), "postgresql": _diff_sql("postgresql")}
SQL_UNIQUE_APPS = {"sqlite": SQL["sqlite"], "postgresql": _diff_sql("postgresql", unique=True)}
