"""The use cases. The CLI, the API and the dashboard are thin faces over these functions.

Nothing here holds state between calls: the repository, the clock and the inputs are passed in. One module
per area: `basics` (the clock, the catalogue), `core` (set-up, import, evaluation, enforcement, reports),
`policy_edit`, `analysis`, `sources`, `network`, `audit`, `catalogue_update` (the signed update channel).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Each name is imported from its module on first use (PEP 562), so a command loads only the use cases it runs:
# `interdit logs scan --no-store` never loads the database layer, the policy engine or the report formats.
_WHERE = {
    "Clock": "basics",
    "LoadedPolicy": "basics",
    "ScanResult": "network",
    "ScannedFile": "network",
    "SnapshotRefused": "core",
    "add_exception": "policy_edit",
    "add_source": "sources",
    "analysis_files": "analysis",
    "analysis_words": "basics",
    "analysis_formats": "analysis",
    "analyze_apks": "analysis",
    "app_evidence": "analysis",
    "apply_enforcement": "sources",
    "audit_trail": "audit",
    "catalogue": "basics",
    "catalogue_in_use": "catalogue_update",
    "channel_source": "catalogue_update",
    "check_source": "sources",
    "configured_sources": "sources",
    "convert_logs": "network",
    "counting": "core",
    "coverage_words": "core",
    "describe_in_use": "catalogue_update",
    "describe_update": "catalogue_update",
    "directive_bans": "basics",
    "as_of_time": "core",
    "enforce": "core",
    "enforcement_options": "core",
    "enforcement_request": "core",
    "enforcement_targets": "core",
    "evaluate": "core",
    "write_payload": "core",
    "family_domains": "network",
    "findings": "core",
    "finding_devices": "core",
    "history": "core",
    "in_use_as_dict": "catalogue_update",
    "import_inventory": "core",
    "inventory_formats": "core",
    "log_formats": "network",
    "open_repository": "core",
    "org_unit_tree": "orgunits",
    "scope_notes": "orgunits",
    "payload_digest": "audit",
    "plain_http_warning": "catalogue_update",
    "policy_diff": "policy_edit",
    "policy_domains": "network",
    "policy_schema": "core",
    "read_domain_list": "network",
    "read_policy": "core",
    "rejection_limit": "core",
    "render": "core",
    "render_analysis": "analysis",
    "stored_analysis": "analysis",
    "report_data": "core",
    "report_formats": "core",
    "review_items": "core",
    "revoke_exception": "policy_edit",
    "save_policy_text": "policy_edit",
    "scan_logs": "network",
    "scan_parquet": "network",
    "search_catalogue": "basics",
    "sightings": "network",
    "source_credentials": "sources",
    "source_types": "sources",
    "connector_settings": "sources",
    "push_targets": "sources",
    "shown_settings": "sources",
    "check_push": "sources",
    "sync_source": "sources",
    "system_clock": "basics",
    "update_catalogue": "catalogue_update",
    "validate_policy_text": "policy_edit",
    "write_starter_policy": "core",
}

_MODULES = frozenset({"audit", "basics", "core", "policy_edit", "analysis", "sources", "network",
                      "catalogue_update", "orgunits", "reports", "downloads"})


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"interdit.pipeline.{name}")
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'interdit.pipeline' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"interdit.pipeline.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(_WHERE)


if TYPE_CHECKING:
    from interdit.pipeline import downloads as downloads
    from interdit.pipeline import reports as reports
    from interdit.pipeline.analysis import (
        analysis_files as analysis_files,
    )
    from interdit.pipeline.analysis import (
        analysis_formats as analysis_formats,
    )
    from interdit.pipeline.analysis import (
        analyze_apks as analyze_apks,
    )
    from interdit.pipeline.analysis import (
        app_evidence as app_evidence,
    )
    from interdit.pipeline.analysis import (
        render_analysis as render_analysis,
    )
    from interdit.pipeline.analysis import (
        stored_analysis as stored_analysis,
    )
    from interdit.pipeline.audit import (
        audit_trail as audit_trail,
    )
    from interdit.pipeline.audit import (
        payload_digest as payload_digest,
    )
    from interdit.pipeline.basics import (
        Clock as Clock,
    )
    from interdit.pipeline.basics import (
        LoadedPolicy as LoadedPolicy,
    )
    from interdit.pipeline.basics import (
        analysis_words as analysis_words,
    )
    from interdit.pipeline.basics import (
        catalogue as catalogue,
    )
    from interdit.pipeline.basics import (
        directive_bans as directive_bans,
    )
    from interdit.pipeline.basics import (
        search_catalogue as search_catalogue,
    )
    from interdit.pipeline.basics import (
        system_clock as system_clock,
    )
    from interdit.pipeline.catalogue_update import (
        catalogue_in_use as catalogue_in_use,
    )
    from interdit.pipeline.catalogue_update import (
        channel_source as channel_source,
    )
    from interdit.pipeline.catalogue_update import (
        describe_in_use as describe_in_use,
    )
    from interdit.pipeline.catalogue_update import (
        describe_update as describe_update,
    )
    from interdit.pipeline.catalogue_update import (
        in_use_as_dict as in_use_as_dict,
    )
    from interdit.pipeline.catalogue_update import (
        plain_http_warning as plain_http_warning,
    )
    from interdit.pipeline.catalogue_update import (
        update_catalogue as update_catalogue,
    )
    from interdit.pipeline.core import (
        SnapshotRefused as SnapshotRefused,
    )
    from interdit.pipeline.core import (
        as_of_time as as_of_time,
    )
    from interdit.pipeline.core import (
        counting as counting,
    )
    from interdit.pipeline.core import (
        coverage_words as coverage_words,
    )
    from interdit.pipeline.core import (
        enforce as enforce,
    )
    from interdit.pipeline.core import (
        enforcement_options as enforcement_options,
    )
    from interdit.pipeline.core import (
        enforcement_request as enforcement_request,
    )
    from interdit.pipeline.core import (
        enforcement_targets as enforcement_targets,
    )
    from interdit.pipeline.core import (
        evaluate as evaluate,
    )
    from interdit.pipeline.core import (
        finding_devices as finding_devices,
    )
    from interdit.pipeline.core import (
        findings as findings,
    )
    from interdit.pipeline.core import (
        history as history,
    )
    from interdit.pipeline.core import (
        import_inventory as import_inventory,
    )
    from interdit.pipeline.core import (
        inventory_formats as inventory_formats,
    )
    from interdit.pipeline.core import (
        open_repository as open_repository,
    )
    from interdit.pipeline.core import (
        policy_schema as policy_schema,
    )
    from interdit.pipeline.core import (
        read_policy as read_policy,
    )
    from interdit.pipeline.core import (
        rejection_limit as rejection_limit,
    )
    from interdit.pipeline.core import (
        render as render,
    )
    from interdit.pipeline.core import (
        report_data as report_data,
    )
    from interdit.pipeline.core import (
        report_formats as report_formats,
    )
    from interdit.pipeline.core import (
        review_items as review_items,
    )
    from interdit.pipeline.core import (
        write_payload as write_payload,
    )
    from interdit.pipeline.core import (
        write_starter_policy as write_starter_policy,
    )
    from interdit.pipeline.network import (
        ScannedFile as ScannedFile,
    )
    from interdit.pipeline.network import (
        ScanResult as ScanResult,
    )
    from interdit.pipeline.network import (
        convert_logs as convert_logs,
    )
    from interdit.pipeline.network import (
        family_domains as family_domains,
    )
    from interdit.pipeline.network import (
        log_formats as log_formats,
    )
    from interdit.pipeline.network import (
        policy_domains as policy_domains,
    )
    from interdit.pipeline.network import (
        read_domain_list as read_domain_list,
    )
    from interdit.pipeline.network import (
        scan_logs as scan_logs,
    )
    from interdit.pipeline.network import (
        scan_parquet as scan_parquet,
    )
    from interdit.pipeline.network import (
        sightings as sightings,
    )
    from interdit.pipeline.orgunits import (
        org_unit_tree as org_unit_tree,
    )
    from interdit.pipeline.orgunits import (
        scope_notes as scope_notes,
    )
    from interdit.pipeline.policy_edit import (
        add_exception as add_exception,
    )
    from interdit.pipeline.policy_edit import (
        policy_diff as policy_diff,
    )
    from interdit.pipeline.policy_edit import (
        revoke_exception as revoke_exception,
    )
    from interdit.pipeline.policy_edit import (
        save_policy_text as save_policy_text,
    )
    from interdit.pipeline.policy_edit import (
        validate_policy_text as validate_policy_text,
    )
    from interdit.pipeline.sources import (
        add_source as add_source,
    )
    from interdit.pipeline.sources import (
        apply_enforcement as apply_enforcement,
    )
    from interdit.pipeline.sources import (
        check_push as check_push,
    )
    from interdit.pipeline.sources import (
        check_source as check_source,
    )
    from interdit.pipeline.sources import (
        configured_sources as configured_sources,
    )
    from interdit.pipeline.sources import (
        connector_settings as connector_settings,
    )
    from interdit.pipeline.sources import (
        push_targets as push_targets,
    )
    from interdit.pipeline.sources import (
        shown_settings as shown_settings,
    )
    from interdit.pipeline.sources import (
        source_credentials as source_credentials,
    )
    from interdit.pipeline.sources import (
        source_types as source_types,
    )
    from interdit.pipeline.sources import (
        sync_source as sync_source,
    )
