"""Schemathesis against the running server's /openapi.json: no 5xx, and answers match their schemas.

Bounded: a few examples per operation, the whole run well under a minute.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from api.fixtures import Workspace, build_workspace, running_server

EXAMPLES = 6
# operations that would lock the fuzzer out of its own server, or read nothing new
SKIP = {("POST", "/api/v1/users/{username}/disable"), ("DELETE", "/api/v1/tokens/{token_id}")}


def test_fuzz_the_documented_api(tmp_path: Path) -> None:
    ws: Workspace = build_workspace(tmp_path / "ws", f"sqlite:///{tmp_path / 'fuzz.db'}", devices=60)
    with running_server(ws) as base:
        headers = {"Authorization": f"Bearer {ws.tokens['admin']}"}
        # the first answer builds the schema: on a loaded machine that takes longer than httpx's default 5 s
        spec = httpx.get(base + "/openapi.json", headers=headers, timeout=60).json()
        schema = schemathesis.openapi.from_dict(spec)
        checked = 0
        statuses: list[int] = []
        for result in schema.get_all_operations():
            op = result.ok()
            if (op.method.upper(), op.path) in SKIP:
                continue

            @given(case=op.as_strategy())
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            def run(case: schemathesis.Case) -> None:
                response = case.call(base_url=base, headers=headers, timeout=20)
                statuses.append(response.status_code)
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

            run()
            checked += 1
        # an ingest token scoped to one source: the uploads it may not make, and everything else, are refused
        # with problem details, never a server error
        made = httpx.post(base + "/api/v1/tokens", headers=headers,
                          json={"username": "ingest", "name": "fuzz nightly", "sources": ["fuzz-source"]})
        assert made.status_code == 201
        scoped = {"Authorization": f"Bearer {made.json()['token']}"}
        refused: list[int] = []
        for result in schema.get_all_operations():
            op = result.ok()

            @given(case=op.as_strategy())
            @settings(max_examples=2, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def run_scoped(case: schemathesis.Case) -> None:
                response = case.call(base_url=base, headers=scoped, timeout=20)
                refused.append(response.status_code)
                case.validate_response(response, checks=[not_a_server_error])

            run_scoped()
    assert refused and max(refused) < 500 and 403 in refused
    assert checked >= 30 and len(statuses) >= 2 * checked
    assert sum(1 for s in statuses if s < 300) >= checked, "most operations answered at least once with success"
    # the admin account survived the fuzzing and the audit trail still verifies
    with running_server(ws) as base:
        r = httpx.get(base + "/api/v1/audit/verify", headers={"Authorization": f"Bearer {ws.tokens['auditor']}"})
        assert r.status_code == 200 and r.json()["ok"]
