"""HTTP routes, thin: parse, call a use case, shape the response."""

from __future__ import annotations

from fastapi import APIRouter

from chorus_sharing.api import connections, feed, links, policy, shares

ROUTERS: tuple[APIRouter, ...] = (
    feed.router,
    shares.router,
    policy.router,
    connections.router,
    links.router,
)
