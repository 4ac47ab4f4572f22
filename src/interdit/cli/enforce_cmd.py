"""`interdit enforce TARGET`: the payloads MDMs need and the configurations DNS servers and proxies load."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from interdit import i18n
from interdit.cli.common import (
    OutputFormat,
    cli_actor,
    err,
    fail,
    out,
    parse_when,
    pipeline,
    print_json,
    run_guarded,
    state,
)
from interdit.errors import EnforcementError


def register(app: typer.Typer) -> None:
    app.command("enforce")(enforce)


def _say(lang: str, key: str, /, **values: object) -> str:
    return i18n.say(lang, f"enforce.cli.{key}", **values)


def _count(lang: str, key: str, n: int, /, **values: object) -> str:
    return i18n.plural(lang, f"enforce.cli.{key}", n, **values)


def _own(lang: str, key: str, english: str) -> str:
    """interdit's words `enforce.<key>` in `lang` where `english` is interdit's own text; a target from another
    package keeps its summary and option help as it wrote them."""
    return i18n.text(lang, f"enforce.{key}") if i18n.text("en", f"enforce.{key}", "") == english else english


def _options(pairs: list[str], lang: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(EnforcementError(_say(lang, "bad-option", pair=repr(pair)), fix=_say(lang, "bad-option.fix")))
        options[key.strip()] = value.strip()
    return options


def _language(lang: str | None, *chosen: str | None) -> str:
    """--lang of the command, else interdit's --lang (settings), else the policy's, else English."""
    picked = lang or next((c for c in chosen if c), "en")
    if picked not in i18n.LANGS:
        fail(f"unknown language {picked!r}\n  fix: use --lang en or --lang fr")
    return picked


def enforce(
    ctx: typer.Context,
    target: Annotated[str | None, typer.Argument(
        help="What to generate: an MDM payload (amapi, apple, intune, jamf, ...) or a DNS/proxy configuration "
             "(rpz, unbound, dnsmasq, hosts, adguard, squid, pdns, knot). Omit it to list the targets.",
        show_default=False)] = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the files into.")] = Path("enforce"),
    option: Annotated[list[str] | None, typer.Option(
        "--option", help="A target setting as KEY=VALUE (repeatable), e.g. policy=sinkhole "
                         "(with sinkhole=192.0.2.1). 'interdit enforce' lists each target's options; an "
                         "unknown or ill-typed one is refused.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="Date the payload is built for [default: now].")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json (a summary)")]
    = OutputFormat.table,
    push: Annotated[str | None, typer.Option(
        "--push", help="A configured source whose connector pushes the target (amapi, intune, jamf, ...; "
                       "'interdit formats' lists them) to push the payload through. Without --apply it is a dry "
                       "run: the changes are shown, nothing is sent.")] = None,
    mdm_object: Annotated[str | None, typer.Option(
        "--mdm-object", "--mdm-policy",
        help="With --push: the MDM object to change, found by name. amapi: the policy (required), e.g. standard. "
             "intune: the displayName of the configuration and compliance objects [default: the payload's]. "
             "jamf: the mobile device configuration profile [default: the payload's]. Created when missing "
             "(intune, jamf), never assigned or scoped.")] = None,
    apply: Annotated[bool, typer.Option(
        "--apply", help="With --push: send the changes shown by the dry run (default: only show them).")] = False,
    sources: Annotated[Path | None, typer.Option(
        "--sources", help="Sources file [env INTERDIT_SOURCES; default sources.yaml]", show_default=False)] = None,
    lang: Annotated[str | None, typer.Option(
        "--lang", help="en or fr: the language of the caveats, the push plan and the errors [default: --lang of "
                       "interdit, else the policy's, else en]", show_default=False)] = None,
) -> None:
    """Generate what each MDM, DNS server or proxy needs to enforce the policy, with the caveats beside it.

    Files are written; nothing is pushed unless --push and --apply say so. Read the caveats: an iOS
    restriction hides an app without removing it, a hosts file cannot block subdomains, DNS blocking does
    not stop DNS over HTTPS.

    Example: interdit enforce unbound --out /etc/unbound/unbound.conf.d/

    Without TARGET, every target is listed with the options it accepts (--option KEY=VALUE).

    What a person reads (the caveats, the push plan, a refusal, the listing) is in the language of --lang,
    else of interdit's --lang, else of the policy; the files are the same in every language.

    For amapi, intune and jamf, --push SOURCE shows what would change in the MDM (a dry run), and --apply
    sends only what is missing: BLOCKED entries in an Android Management policy; apps added to the prohibited
    and hidden app lists of Intune objects; bundle ids added to the blockedAppBundleIDs of a Jamf Pro profile.
    Nothing else in those objects changes. Every build and every --apply is recorded in the audit trail.

    Example: interdit enforce amapi --push android --mdm-object standard --apply

    Example: interdit enforce intune --push intune --mdm-object "Prohibited apps"

    Example: interdit enforce jamf --push jamf --mdm-object "Prohibited apps" --apply
    """
    s = state(ctx)
    if target is None:
        language = _language(lang, s.settings.lang)
        rows = pipeline.enforcement_targets()
        declared = pipeline.enforcement_options()
        if output is OutputFormat.json:
            print_json({"schema_version": 1, "targets": [
                {"name": n, "summary": _own(language, f"target.{n}", s), "options": [
                    {"name": o.name, "kind": o.kind, "default": o.default, "allowed": list(o.allowed),
                     "help": _own(language, f"help.{o.name}", o.help)} for o in declared[n]]} for n, s in rows]})
            return
        for name, summary in rows:
            out.print(f"{name:<14} {_own(language, f'target.{name}', summary)}", markup=False)
            for o in declared[name]:
                default = "" if o.default is None else " " + _say(language, "default", value=o.default)
                out.print(f"    --option {o.name}=<{o.describe(language)}>{default}\n"
                          f"        {_own(language, f'help.{o.name}', o.help)}", markup=False)
        return
    loaded = run_guarded(lambda: pipeline.read_policy(s.settings.policy_path))
    language = _language(lang, s.settings.lang, loaded.policy.language)
    when = parse_when(at, default=s.clock())
    given = _options(option or [], language)
    request = run_guarded(lambda: pipeline.enforcement_request(loaded, now=when, options=given, lang=language))
    if (mdm_object or apply) and not push:
        fail(EnforcementError(_say(language, "needs-push"),
                              fix="interdit enforce amapi --push android --mdm-object standard --apply"))
    if push:  # refused before anything is built or written
        chosen = target
        run_guarded(lambda: pipeline.check_push(chosen, mdm_object))
    pushing = bool(push and apply)
    # a push records the payload's digest with the changes sent: one entry for the command, not two
    payload = run_guarded(lambda: pipeline.enforce(target, request))
    written = run_guarded(lambda: pipeline.write_payload(payload, request, out_dir,
                                                         actor=None if pushing else cli_actor(), audit=s.audit))
    plan: list[str] | None = None
    if push:
        plan = run_guarded(lambda: pipeline.apply_enforcement(
            push, payload, policy=mdm_object, apply=apply, path=sources, clock=s.clock, actor=cli_actor(),
            audit=s.audit))
    if output is OutputFormat.json:
        print_json({"schema_version": 1, "target": payload.target, "files": [str(p) for p in written],
                    "caveats": list(payload.caveats), "families": list(request.families),
                    "apps": len(request.apps), "domains": len(request.domains),
                    "push": None if plan is None else {"source": push, "object": mdm_object, "policy": mdm_object,
                                                       "applied": apply, "changes": plan}})
        return
    out.print(_say(language, "summary", target=payload.target,
                   families=_count(language, "families", len(request.families)),
                   apps=_count(language, "apps", len(request.apps)),
                   domains=_count(language, "domains", len(request.domains))), markup=False)
    for path in written:
        out.print("  " + _say(language, "wrote", path=path), markup=False)
    for caveat in payload.caveats:
        err.print("  " + _say(language, "caveat", caveat=caveat), markup=False)
    if plan is not None:
        shown = f"{push} {mdm_object}" if mdm_object else push
        if apply:
            note = ""
        elif plan:
            note = " " + _say(language, "dry-run")
        else:
            note = " " + _say(language, "dry-run-nothing")
        out.print(_count(language, "changes", len(plan), object=shown) + note, markup=False)
        for line in plan:
            out.print(f"  {line}", markup=False)
