"""Who an authenticated request comes from, as the gateway knows it."""

from __future__ import annotations

from dataclasses import dataclass

from chorus_platform.identity import Identity, PrincipalKind, Role


@dataclass(frozen=True)
class RateLimit:
    per_minute: int
    burst: int


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    principal_id: str
    kind: PrincipalKind
    roles: frozenset[Role]
    scopes: frozenset[str]
    team_ids: frozenset[str]
    rate: RateLimit

    @property
    def is_person(self) -> bool:
        return self.kind is PrincipalKind.PERSON

    def identity(self) -> Identity:
        return Identity(
            tenant_id=self.tenant_id,
            principal_id=self.principal_id,
            kind=self.kind,
            roles=self.roles,
            scopes=self.scopes,
            team_ids=self.team_ids,
        )
