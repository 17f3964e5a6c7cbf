"""The scopes an API key may carry, and the roles they let a key act with.

Services check roles for people and (some) scopes for keys. Where a service knows
only roles (content), a key acts with the role its scope implies; the gateway's
route policy still limits the key to what its scopes name, so `content:read`
acting as an editor cannot write. A scope never implies `admin`: admin-only
routes accept keys only through an explicit scope the service checks itself.
"""

from __future__ import annotations

from chorus_platform.identity import Role

SCOPES: dict[str, str] = {
    "content:read": "read the content library, guidelines and categories",
    "content:write": "create and edit content items, submit them for review",
    "content:approve": "approve or reject content in review",
    "sharing:read": "read the tenant's shares",
    "metrics:read": "read program KPIs",
    "metrics:write": "ingest reported engagement, manage metrics settings",
    "rewards:read": "read points rules and leaderboards",
    "rewards:admin": "manage points rules and rewards settings, read any account",
    "directory:read": "read teams and people",
    "directory:write": "manage teams and people",
}

IMPLIED_ROLES: dict[str, Role] = {
    "content:read": Role.EDITOR,
    "content:write": Role.EDITOR,
    "content:approve": Role.APPROVER,
}


def roles_for_scopes(scopes: frozenset[str]) -> frozenset[Role]:
    return frozenset(IMPLIED_ROLES[s] for s in scopes if s in IMPLIED_ROLES)
