"""Per-tenant fraud rules: what each rule rejects, its parameters and their defaults.

Stored per tenant as JSON (`fraud_rules`); a tenant without a row gets
`FraudRules()`. Every rule can be switched off; its explanation is served with
it, so an admin reading `GET /v1/metrics/fraud-rules` knows what a figure hides.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field


class Reason(StrEnum):
    """Why an engagement was rejected; the keys of `engagement.updated.rejected`."""

    BOT = "bot"
    SELF_CLICK = "self_click"
    BURST = "burst"
    DUPLICATE = "duplicate"
    NETWORK_MISMATCH = "network_mismatch"


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    enabled: bool = True


class UniqueClickRule(_Rule):
    window_seconds: int = Field(default=86_400, ge=1, le=30 * 86_400)


class BotRule(_Rule):
    reject_missing_user_agent: bool = True


class SelfClickRule(_Rule):
    pass


class BurstRule(_Rule):
    max_clicks: int = Field(default=10, ge=2, le=100_000)
    window_seconds: int = Field(default=60, ge=1, le=86_400)


class FraudRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    unique_click: UniqueClickRule = UniqueClickRule()
    bot: BotRule = BotRule()
    self_click: SelfClickRule = SelfClickRule()
    burst: BurstRule = BurstRule()


EXPLANATIONS: Final[dict[str, str]] = {
    "unique_click": (
        "A visitor (keyed hash of IP and user agent, computed by the sharing service) counts "
        "once per share per window_seconds; later clicks in the window are rejected as "
        "'duplicate'."
    ),
    "bot": (
        "Clicks whose user agent matches the crawler-user-agents dataset (about 1,500 "
        "maintained patterns: search engines, link previewers such as LinkedInBot or "
        "Slackbot, HTTP libraries) are rejected as 'bot'; with reject_missing_user_agent, "
        "so are clicks without a user agent."
    ),
    "self_click": (
        "Clicks from a visitor hash known to belong to the share's advocate are rejected as "
        "'self_click'. Known fingerprints come from POST /v1/metrics/advocate-fingerprints "
        "(fed by the sharing service from the advocate's own authenticated requests); a "
        "self-click from another device or network is not recognised."
    ),
    "burst": (
        "When max_clicks clicks on one share arrive within window_seconds from one network "
        "prefix (/24 IPv4, /48 IPv6), that click and every click counted from the prefix in "
        "the window are rejected as 'burst'; clicks already counted are taken back with a "
        "negative correction in the next engagement.updated."
    ),
}
"""Human explanation of each rule, served with the rules."""

CHECK_ORDER: Final[tuple[Reason, ...]] = (
    Reason.BOT,
    Reason.SELF_CLICK,
    Reason.BURST,
    Reason.DUPLICATE,
)
"""A click failing several rules is rejected for the first in this order."""
