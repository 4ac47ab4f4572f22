"""Entra ID group memberships of Intune devices and of their primary users, transitively (Microsoft Graph).

For each device: `GET /devices(deviceId='{azureADDeviceId}')/transitiveMemberOf`, and for its primary user
`GET /users/{userId or userPrincipalName}/transitiveMemberOf` (once per user), sent twenty at a time through
`POST /v1.0/$batch`. A response in a batch that was throttled or failed is asked again on its own (with the
connector's retries); a device or user Entra ID does not know (404) has no groups read, which the evaluation
treats as unknown. Only groups are kept (not administrative units or directory roles), by `displayName`; a group
whose name the app may not read (Graph then returns it with `displayName` null) is kept by its object id.

Permissions (application): Device.Read.All, User.Read.All and GroupMember.Read.All.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from interdit.errors import ConfigError, InputError
from interdit.inventory._http import ApiClient, safe_url

BATCH = 20  # the most requests Graph accepts in one $batch
MAX_PAGES = 50  # pages of one device's or user's memberships (999 each): far beyond any real tenant
PERMISSIONS = ("Device.Read.All", "User.Read.All", "GroupMember.Read.All")
GROUP = "#microsoft.graph.group"
SELECT = "?$select=id,displayName&$top=999"


class EntraGroups:
    def __init__(self, api: ApiClient, graph: str, source: str) -> None:
        self.api = api
        self.graph = graph.rstrip("/")
        self.source = source

    def of(self, targets: Iterable[str]) -> dict[str, tuple[str, ...] | None]:
        """Group names per target (`/devices(deviceId='ID')` or `/users/ID`); None when Entra ID does not know it."""
        wanted = list(dict.fromkeys(targets))
        out: dict[str, tuple[str, ...] | None] = {}
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start:start + BATCH]
            requests = [{"id": str(i), "method": "GET", "url": f"{t}/transitiveMemberOf{SELECT}"}
                        for i, t in enumerate(chunk)]
            answer = self.api.post_json(f"{self.graph}/v1.0/$batch", {"requests": requests})
            responses = answer.get("responses") if isinstance(answer, dict) else None
            if not isinstance(responses, list):
                raise InputError("the $batch answer has no 'responses' list", where=f"{self.source}: $batch",
                                 fix="check the graph_url setting; it must point at Microsoft Graph")
            by_id = {str(r.get("id")): r for r in responses if isinstance(r, dict)}
            for i, target in enumerate(chunk):
                out[target] = self._one(target, by_id.get(str(i)))
        return out

    def _one(self, target: str, response: dict[str, Any] | None) -> tuple[str, ...] | None:
        url = f"{self.graph}/v1.0{target}/transitiveMemberOf{SELECT}"
        status = response.get("status") if response is not None else None
        if status == 404:
            return None
        if status in (401, 403):
            raise ConfigError(f"Microsoft Graph refused to list group memberships (HTTP {status})",
                              where=f"{self.source}: GET {safe_url(url)}",
                              fix="grant the app " + ", ".join(PERMISSIONS) + " (application permissions, with "
                                  "admin consent), or set 'groups: off' on the source")
        body = response.get("body") if response is not None and status == 200 else None
        if not isinstance(body, dict):  # throttled, failed or missing in the batch: ask on its own, with retries
            body = self.api.get_json(url)
        return tuple(dict.fromkeys(self._names(body)))

    def _names(self, body: Any) -> Iterator[str]:
        for n in range(MAX_PAGES):
            if not isinstance(body, dict) or not isinstance(body.get("value", []), list):
                raise InputError("a transitiveMemberOf page is not a collection", where=f"{self.source}: $batch",
                                 fix="check the graph_url setting; it must point at Microsoft Graph")
            for item in body.get("value") or []:
                if isinstance(item, dict) and item.get("@odata.type", GROUP) == GROUP and item.get("id"):
                    yield str(item.get("displayName") or item["id"])
            link = body.get("@odata.nextLink")
            if not link:
                return
            if not isinstance(link, str) or httpx.URL(link).host != httpx.URL(self.graph).host:
                raise InputError("@odata.nextLink points to another host",
                                 where=f"{self.source}: {safe_url(str(link))}",
                                 fix="check the graph_url setting; tokens are never sent to another host")
            if n + 1 >= MAX_PAGES:
                raise InputError(f"over {MAX_PAGES} pages of group memberships", where=f"{self.source}: {link[:80]}",
                                 fix="check the tenant's groups; a device or user is never in that many")
            body = self.api.get_json(link)


def targets(item: dict[str, Any]) -> tuple[str | None, str | None]:
    """The Entra ID device and primary user a managedDevice names (either may be missing)."""
    device = str(item.get("azureADDeviceId") or "").strip()
    user = str(item.get("userId") or item.get("userPrincipalName") or "").strip()
    zero = "00000000-0000-0000-0000-000000000000"
    return (f"/devices(deviceId='{device}')" if device and device != zero else None,
            f"/users/{user}" if user and user != zero and "'" not in user and "/" not in user else None)
