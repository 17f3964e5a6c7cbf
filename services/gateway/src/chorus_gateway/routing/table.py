"""Which upstream service serves a path: longest matching prefix, on segment boundaries."""

from __future__ import annotations

from collections.abc import Mapping


class RouteTable:
    def __init__(self, routes: Mapping[str, str], upstreams: Mapping[str, str]) -> None:
        unknown = sorted(set(routes.values()) - upstreams.keys())
        if unknown:
            raise ValueError(f"routes name services without an upstream URL: {unknown}")
        # Longest first, so /v1/sharing/x is not taken by a shorter /v1/shar... prefix.
        self.prefixes = sorted(
            ((p.rstrip("/"), s) for p, s in routes.items()), key=lambda e: -len(e[0])
        )
        self.upstreams = dict(upstreams)

    def service_for(self, path: str) -> str | None:
        for prefix, service in self.prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return service
        return None
