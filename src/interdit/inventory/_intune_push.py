"""`interdit enforce intune --push`: the Intune objects a payload changes, found by displayName and @odata.type.

Missing objects are created (POST, never assigned); existing ones are PATCHed with their app lists only (Graph
beta, DeviceManagementConfiguration.ReadWrite.All). The pure plan is the enforcement target's (`planner`).
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from interdit.inventory.live import Push

if TYPE_CHECKING:
    from interdit.inventory.intune import IntuneConnector


def push(connector: IntuneConnector, payload: Any, name: str | None, planner: ModuleType) -> Push:
    root = f"{connector.graph}/beta/deviceManagement"
    listed: dict[str, list[dict[str, Any]]] = {}

    def listing(collection: str) -> list[dict[str, Any]]:
        if collection not in listed:  # the same Graph paging as the inventory (nextLink on the same host only)
            items: list[dict[str, Any]] = []
            for _, page in connector._pages(f"{root}/{collection}?$select=id,displayName"):
                value = page.get("value") if isinstance(page, dict) else None
                items += [i for i in (value if isinstance(value, list) else []) if isinstance(i, dict)]
            listed[collection] = items
        return listed[collection]

    current: dict[str, dict[str, Any] | None] = {}
    objects = planner.push_objects(payload, name)
    for file, body in objects.items():
        collection = planner.COLLECTIONS[file]
        found = [i for i in listing(collection) if i.get("displayName") == body["displayName"]
                 and i.get("@odata.type") in (None, body["@odata.type"])]
        if len(found) > 1:
            raise ValueError(f"{len(found)} {collection} are named {body['displayName']!r} (ids "
                             f"{', '.join(str(i.get('id')) for i in found)}); rename all but one, or name others "
                             "with --mdm-object")
        got = connector.api.get_json(f"{root}/{collection}/{found[0]['id']}") if found else None
        current[file] = got if isinstance(got, dict) or got is None else {}
    lines, changes = planner.plan(current, payload, name)

    def send() -> list[Any]:
        sent = []
        for change in changes:
            url = f"{root}/{change['collection']}"
            if change["id"] is None:
                made = connector.api.post_json(url, change["body"])
                sent.append({"created": change["displayName"], "id": made.get("id") if isinstance(made, dict)
                             else None})
            else:
                connector.api.request("PATCH", f"{url}/{change['id']}", json_body=change["body"],
                                      headers={"Accept": "application/json"})
                sent.append({"updated": change["displayName"], "id": change["id"],
                             "fields": sorted(k for k in change["body"] if not k.startswith("@"))})
        return sent

    first = next(iter(objects.values()), {"displayName": name or "-"})
    return Push(str(name or first["displayName"]), lines, send)
