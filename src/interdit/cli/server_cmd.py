"""`interdit serve`, `interdit users ...`, `interdit tokens ...`, `interdit audit ...`: the server and its accounts."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from interdit.cli.common import (
    EXIT_ATTENTION,
    OutputFormat,
    State,
    cli_actor,
    err,
    fail,
    out,
    print_json,
    run_guarded,
    state,
)
from interdit.errors import ConfigError

if TYPE_CHECKING:
    from interdit.storage.accounts import AccountStore
    from interdit.storage.audit import AuditLog

users_app = typer.Typer(help="Accounts of the server: people (password) and machines (tokens).",
                        no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens: shown once when created, stored hashed.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: every change, chained by hash so tampering shows.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(audit_app, name="audit")


class RoleName(StrEnum):
    """The account roles as the command line takes them (`interdit.storage.accounts.Role`, read without loading
    the database layer)."""

    ADMIN = "admin"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    INGEST = "ingest"


def _stores(s: State) -> tuple[AccountStore, AuditLog]:
    from interdit.storage.accounts import AccountStore
    from interdit.storage.audit import AuditLog

    engine = s.repo.engine
    return AccountStore(engine, clock=s.clock), AuditLog(engine, clock=s.clock)


OIDC_PANEL = "Sign-in through an identity provider (OpenID Connect)"


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on. Keep 127.0.0.1 behind a proxy.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    behind_tls: Annotated[bool, typer.Option(
        "--behind-tls", help="A TLS reverse proxy is in front: cookies get the Secure flag, HSTS is sent.")] = False,
    forwarded_allow_ips: Annotated[str, typer.Option(
        "--forwarded-allow-ips", help="Proxies trusted for X-Forwarded-For/Proto (comma separated).")] = "127.0.0.1",
    max_upload_mb: Annotated[int, typer.Option("--max-upload-mb", help="Largest upload accepted (413 beyond).")]
    = 512,
    oidc_issuer: Annotated[str | None, typer.Option(
        "--oidc-issuer", help="OpenID Connect provider for dashboard sign-in (its issuer URL). "
        "[env: INTERDIT_OIDC_ISSUER]", rich_help_panel=OIDC_PANEL)] = None,
    oidc_client_id: Annotated[str | None, typer.Option(
        "--oidc-client-id", help="The client id interdit is registered with. [env: INTERDIT_OIDC_CLIENT_ID]",
        rich_help_panel=OIDC_PANEL)] = None,
    oidc_client_secret_file: Annotated[Path | None, typer.Option(
        "--oidc-client-secret-file", help="File holding the client secret, mode 0600. "
        "[env: INTERDIT_OIDC_CLIENT_SECRET_FILE, or the secret itself in INTERDIT_OIDC_CLIENT_SECRET]",
        rich_help_panel=OIDC_PANEL)] = None,
    oidc_role_claim: Annotated[str | None, typer.Option(
        "--oidc-role-claim", help="ID token claim holding the person's groups or roles, e.g. groups, roles, "
        "realm_access.roles. [default: groups] [env: INTERDIT_OIDC_ROLE_CLAIM]", rich_help_panel=OIDC_PANEL)] = None,
    oidc_role_map: Annotated[list[str] | None, typer.Option(
        "--oidc-role-map", help="GROUP=ROLE: the claim value that gives an interdit role (admin, analyst, auditor); "
        "repeat it. [env: INTERDIT_OIDC_ROLE_MAP, comma separated]", rich_help_panel=OIDC_PANEL)] = None,
    oidc_username_claim: Annotated[str | None, typer.Option(
        "--oidc-username-claim", help="Claim naming the account, else 'email'. [default: preferred_username] "
        "[env: INTERDIT_OIDC_USERNAME_CLAIM]", rich_help_panel=OIDC_PANEL)] = None,
    oidc_provider_name: Annotated[str | None, typer.Option(
        "--oidc-provider-name", help="Name on the sign-in button, e.g. 'Microsoft Entra ID'. [default: the issuer's "
        "host] [env: INTERDIT_OIDC_PROVIDER_NAME]", rich_help_panel=OIDC_PANEL)] = None,
    oidc_scopes: Annotated[str | None, typer.Option(
        "--oidc-scopes", help="Scopes asked for, space separated. [default: openid profile email] "
        "[env: INTERDIT_OIDC_SCOPES]", rich_help_panel=OIDC_PANEL)] = None,
    oidc_redirect_url: Annotated[str | None, typer.Option(
        "--oidc-redirect-url", help="Callback URL registered at the provider, e.g. https://interdit.example.gc.ca"
        "/login/oidc/callback. [default: built from the request] [env: INTERDIT_OIDC_REDIRECT_URL]",
        rich_help_panel=OIDC_PANEL)] = None,
    oidc_only: Annotated[bool, typer.Option(
        "--oidc-only", help="No password sign-in on the dashboard. [env: INTERDIT_OIDC_ONLY=1]",
        rich_help_panel=OIDC_PANEL)] = False,
) -> None:
    """Run the REST API and the dashboard.

    Example: INTERDIT_SECRET_KEY=$(openssl rand -hex 32) interdit serve --behind-tls --port 8000

    Example: interdit serve --behind-tls --oidc-issuer https://login.microsoftonline.com/TENANT/v2.0
    --oidc-client-id ID --oidc-client-secret-file /etc/interdit/oidc-secret --oidc-role-map GROUP-ID=admin

    Then open http://127.0.0.1:8000/ (sign in with an account from 'interdit users add', or with the
    identity provider), the API reference at /docs, and point the proxy's health check at /healthz.
    """
    import uvicorn

    from interdit.server.app import create_app
    from interdit.server.context import ServerOptions
    from interdit.server.oidc import OidcConfig

    s = state(ctx)
    oidc = run_guarded(lambda: OidcConfig.resolve(
        issuer=oidc_issuer, client_id=oidc_client_id, client_secret_file=oidc_client_secret_file,
        role_claim=oidc_role_claim, role_map=oidc_role_map, username_claim=oidc_username_claim,
        provider_name=oidc_provider_name, scopes=oidc_scopes, redirect_url=oidc_redirect_url,
        only=oidc_only or None))
    run_guarded(lambda: s.repo)  # migrate before listening, so the first request is not the one that waits
    options = run_guarded(lambda: ServerOptions.from_env(
        secure_cookies=behind_tls or None, max_upload_bytes=max_upload_mb * 1024 * 1024, oidc=oidc))
    limits = run_guarded(connection_limits)
    if not options.secret:
        err.print("note: INTERDIT_SECRET_KEY is not set; sessions end when the server restarts")
    if oidc is not None:
        err.print(f"dashboard sign-in through {oidc.display_name} ({oidc.issuer}), client {oidc.client_id}"
                  + ("; passwords off" if oidc.only else ""), markup=False)
    app = create_app(s.settings, clock=s.clock, options=options)
    from interdit.server.app import QuickHealth
    from interdit.server.connections import timed_protocol

    uvicorn.run(QuickHealth(app, app.state.ctx), host=host, port=port, proxy_headers=True,
                forwarded_allow_ips=forwarded_allow_ips,
                server_header=False, log_level="info", timeout_keep_alive=limits["timeout_keep_alive"],
                limit_concurrency=limits["limit_concurrency"],
                h11_max_incomplete_event_size=limits["h11_max_incomplete_event_size"],
                http=timed_protocol(), loop="auto")


def connection_limits(environ: dict[str, str] | None = None) -> dict[str, int]:
    """What uvicorn bounds for slow or idle clients (docs/server.md, "Security model"): idle keep-alive
    connections close after INTERDIT_KEEP_ALIVE_SECONDS (5), a request's head may not exceed 64 KiB, and past
    INTERDIT_MAX_CONNECTIONS (1000) open connections new requests get 503 at once. A head must arrive within
    10 s (`interdit.server.connections`); body read timeouts are the reverse proxy's work."""
    import os

    from interdit.settings import env_number

    env = os.environ if environ is None else environ
    return {"timeout_keep_alive": int(env_number(env, "INTERDIT_KEEP_ALIVE_SECONDS", low=1, high=3600) or 5),
            "limit_concurrency": int(env_number(env, "INTERDIT_MAX_CONNECTIONS", low=1) or 1000),
            "h11_max_incomplete_event_size": 64 * 1024}


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The sign-in name, e.g. marie.tremblay")],
    role: Annotated[RoleName, typer.Option("--role", "-r", help="admin, analyst, auditor or ingest")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]
    = False,
    no_password: Annotated[bool, typer.Option("--no-password", help="No dashboard sign-in: API tokens only.")]
    = False,
) -> None:
    """Create an account. People get a password (asked twice, or read with --password-stdin).

    Example: interdit users add marie.tremblay --role analyst
    Example: interdit users add nightly-mdm --role ingest --no-password
    """
    s = state(ctx)
    password: str | None = None
    if not (no_password or role is RoleName.INGEST):
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    from interdit.pipeline import accounts as use
    from interdit.pipeline.audit import Recorder

    accounts, audit = _stores(s)
    made = run_guarded(lambda: use.add_account(accounts, Recorder(audit), cli_actor(), username, role.value, password))
    out.print(f"created {made.username} ({made.role.value})")


@users_app.command("list")
def users_list(
    ctx: typer.Context,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
) -> None:
    """List accounts, their roles and whether they are disabled.

    Example: interdit users list --format json
    """
    accounts, _ = _stores(state(ctx))
    rows = accounts.all()
    if output is OutputFormat.json:
        print_json({"schema_version": 1, "users": [
            {"username": a.username, "role": a.role.value, "disabled": a.disabled, "password": a.has_password,
             "oidc": a.via_oidc, "created_at": a.created_at.isoformat()} for a in rows]})
        return
    for a in rows:
        flag = " (disabled)" if a.disabled else ""
        how = "password" if a.has_password else "identity provider" if a.via_oidc else "tokens only"
        out.print(f"{a.username:30} {a.role.value:8} {how}{flag}", markup=False)


@users_app.command("disable")
def users_disable(ctx: typer.Context, username: Annotated[str, typer.Argument(help="The account to disable.")]
                  ) -> None:
    """Disable an account: its sessions end at once; a running server refuses its tokens within 5 seconds.

    Example: interdit users disable marie.tremblay
    """
    from interdit.pipeline import accounts as use
    from interdit.pipeline.audit import Recorder

    accounts, audit = _stores(state(ctx))
    run_guarded(lambda: use.disable_account(accounts, Recorder(audit), cli_actor(), username))
    out.print(f"disabled {username}")


@users_app.command("password")
def users_password(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account whose password to set.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]
    = False,
) -> None:
    """Set an account's password (asked twice, or read with --password-stdin); its sessions end at once.

    Example: echo "$NEW" | interdit users password marie.tremblay --password-stdin
    """
    s = state(ctx)
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    from interdit.pipeline import accounts as use
    from interdit.pipeline.audit import Recorder

    accounts, audit = _stores(s)
    run_guarded(lambda: use.set_password(accounts, Recorder(audit), cli_actor(), username, password))
    out.print(f"set the password of {username}; its sessions ended")


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account the token acts as.")],
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'nightly intune export'.")],
    source: Annotated[list[str] | None, typer.Option(
        "--source", help="A source the token may import; repeat it. Without --source nor --logs, the token may "
        "write every source and log feed.")] = None,
    logs: Annotated[bool, typer.Option("--logs", help="The token may upload DNS, proxy and TLS logs.")] = False,
) -> None:
    """Create an API token and print it once (it is stored hashed and cannot be shown again).

    Example: interdit tokens create nightly-mdm "nightly intune export" --source intune-prod

    Example: interdit tokens create resolvers "dns logs of the resolvers" --logs
    """
    from interdit.pipeline import accounts as use
    from interdit.pipeline.audit import Recorder
    from interdit.storage.accounts import parse_scopes

    accounts, audit = _stores(state(ctx))
    scopes = run_guarded(lambda: parse_scopes(source or (), logs=logs))
    info, secret = run_guarded(lambda: use.create_token(accounts, Recorder(audit), cli_actor(), username, name, scopes))
    err.print(f"token {info.id} for {info.username} (may write: {info.scope_text}): store it now, it is not shown "
              "again", markup=False)
    print(secret)


@tokens_app.command("list")
def tokens_list(ctx: typer.Context) -> None:
    """List tokens (ids, accounts, what they may write, names; never the secrets). `*` may write every source
    and log feed, `@logs` may upload logs.

    Example: interdit tokens list
    """
    accounts, _ = _stores(state(ctx))
    for t in accounts.tokens():
        status = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        out.print(f"{t.id}  {t.username:24} {status:18} {t.scope_text:24} {t.name}", markup=False, soft_wrap=True)


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, token_id: Annotated[str, typer.Argument(help="The token's id (12 hex).")]
                  ) -> None:
    """Revoke a token: requests that carry it are refused from now on.

    Example: interdit tokens revoke 3f9a1c0b7d2e
    """
    from interdit.pipeline import accounts as use
    from interdit.pipeline.audit import Recorder

    accounts, audit = _stores(state(ctx))
    info = run_guarded(lambda: use.revoke_token(accounts, Recorder(audit), cli_actor(), token_id))
    out.print(f"revoked {token_id} ({info.username}: {info.name})", markup=False)


@audit_app.command("list")
def audit_list(
    ctx: typer.Context,
    after: Annotated[int, typer.Option("--after", help="Only entries after this sequence number.")] = 0,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many.")] = 50,
    action: Annotated[str | None, typer.Option("--action", help="e.g. exception.grant, policy.update")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
) -> None:
    """List audit entries: sequence, time, actor, action, target.

    Example: interdit audit list --action exception.grant
    """
    _, audit = _stores(state(ctx))
    entries = audit.entries(after=after, limit=limit, action=action)
    if output is OutputFormat.json:
        print_json({"schema_version": 1, "entries": [e.as_dict() for e in entries]})
        return
    for e in entries:
        out.print(f"{e.seq:6}  {e.at:%Y-%m-%d %H:%M:%S}  {e.actor:28} {e.action:18} {e.target}", markup=False)


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    checkpoint: Annotated[str | None, typer.Option(
        "--checkpoint", help="ENTRY:HASH printed by an earlier verify and kept elsewhere: the trail must still "
                             "reach that entry with that hash (nothing rewritten, nothing cut off the end).")] = None,
) -> None:
    """Recompute the hash chain; exit 1 naming the first entry that was edited, removed or moved.

    The chain alone cannot show that entries were cut off its end: keep the printed checkpoint
    (ENTRY:HASH) somewhere else, a ticket or a signed e-mail, and pass it back later.

    Example: interdit audit verify --checkpoint 1284:9b1f0c...e07c
    """
    from interdit.storage.audit import parse_checkpoint

    try:
        kept = parse_checkpoint(checkpoint) if checkpoint is not None else None
    except ValueError as e:
        fail(str(e))
    _, audit = _stores(state(ctx))
    v = audit.verify(kept)
    if v.ok:
        out.print(f"audit trail intact: {v.entries} entries, head {v.head}", markup=False)
        out.print(f"checkpoint: {v.entries}:{v.head}", markup=False)
        return
    err.print(f"audit trail broken at entry {v.broken_at}: {v.reason}", markup=False)
    err.print(f"  the {v.entries} entries before it check; restore the table from a backup and compare", markup=False)
    raise typer.Exit(EXIT_ATTENTION)


@audit_app.command("export")
def audit_export(
    ctx: typer.Context,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of standard output.")]
    = None,
) -> None:
    """Export the whole trail as JSON lines, each entry with its hashes (verifiable elsewhere).

    Example: interdit audit export --out audit-2023-03.jsonl
    """
    _, audit = _stores(state(ctx))
    if out_path is None:
        for line in audit.export_jsonl():
            sys.stdout.write(line)
        return
    try:
        with out_path.open("w", encoding="utf-8") as fh:
            n = 0
            for line in audit.export_jsonl():
                fh.write(line)
                n += 1
    except OSError as e:
        fail(ConfigError(f"cannot write {out_path}: {e.strerror}", fix="choose a writable path"))
    err.print(f"wrote {n} entries to {out_path}")
