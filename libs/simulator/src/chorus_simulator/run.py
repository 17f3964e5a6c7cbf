"""Carry a plan out through the gateway and record what the platform acknowledged."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from chorus_simulator.gateway import Gateway, Headers
from chorus_simulator.idp import IdentityProvider
from chorus_simulator.plan import Plan, PlannedReport
from chorus_simulator.progress import Progress
from chorus_simulator.record import ClickRecord, Record, ReportRecord, ShareRecord

T = TypeVar("T")

POINTS_RULES: dict[str, Any] = {
    # The defaults' values without daily caps: a program that caps nothing, so the
    # expected points are a plain sum (caps have their own tests in rewards).
    "share": {"linkedin": 10, "x": 10, "facebook": 0, "instagram": 10, "xing": 10, "email": 5},
    "engagement": {
        "click": 1,
        "reaction": 1,
        "comment": 2,
        "reshare": 3,
        "per_1000_impressions": 1,
    },
    "daily_caps": {},
}
FRAUD_RULES: dict[str, Any] = {
    "unique_click": {"enabled": True, "window_seconds": 86_400},
    "bot": {"enabled": True, "reject_missing_user_agent": True},
    "self_click": {"enabled": True},
    "burst": {"enabled": True, "max_clicks": 10, "window_seconds": 60},
}
COLLECTOR = "sim-collector"


@dataclass(frozen=True)
class TenantAccess:
    tenant_id: str
    admin_email: str
    admin_password: str


def now() -> str:
    return datetime.now(UTC).isoformat()


async def bounded(limit: int, job: Callable[[int], Awaitable[T]], count: int) -> list[T]:
    """`job(0)` ... `job(count - 1)` with at most `limit` in flight; results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(i: int) -> T:
        async with gate:
            return await job(i)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


class ProgramRun:
    def __init__(
        self,
        gateway: Gateway,
        tenant: TenantAccess,
        plan: Plan,
        progress: Progress | None = None,
        *,
        sso: IdentityProvider | None = None,
    ) -> None:
        self.sso = sso
        """People sign in through this identity provider instead of passwords."""
        self.gw = gateway
        self.tenant = tenant
        self.plan = plan
        self.progress = progress or Progress(quiet=True)
        self.run_id = secrets.token_hex(4)
        self.password = secrets.token_urlsafe(12)
        self.admin: Headers = {}
        self.people: dict[str, Headers] = {}
        self.advocate_ids: list[str] = []
        self.team_ids: list[str] = []
        self.content_ids: list[str] = []
        self.record = Record(tenant_id=tenant.tenant_id, time_zone="UTC", started_at=now())
        self.midway: Callable[[], Coroutine[Any, Any, object]] | None = None
        """Started as a task when a third of the clicks are done (fault injection);
        engagement reports wait for it to finish."""
        self._midway_task: asyncio.Task[object] | None = None
        self.midway_ran = False

    async def execute(self) -> Record:
        self.admin = await self.gw.login(
            self.tenant.tenant_id, self.tenant.admin_email, self.tenant.admin_password
        )
        await self.configure_program()
        await self.enrol_people()
        await self.publish_content()
        await self.share()
        await self.click()
        if self._midway_task is not None:
            await self._midway_task
        await self.report_engagement()
        self.record.finished_at = now()
        return self.record

    # -- setting up the program --------------------------------------------------------
    async def configure_program(self) -> None:
        call, admin = self.gw.call, self.admin
        # A simulation is one tenant's traffic from one address: lift its API budget.
        await call(
            "PATCH",
            "/v1/directory/tenant",
            headers=admin,
            json={"rate_limit_per_minute": 1_000_000, "rate_limit_burst": 100_000},
        )
        await call("PUT", "/v1/rewards/rules", headers=admin, json={"rules": POINTS_RULES})
        await call("PUT", "/v1/metrics/fraud-rules", headers=admin, json=FRAUD_RULES)
        await call(
            "PUT",
            "/v1/sharing/policy",
            headers=admin,
            json={"daily_cap": 1000, "duplicate_rule": "identical"},
        )
        await call(
            "PUT",
            "/v1/metrics/enrolment",
            headers=admin,
            json={"enrolled_advocates": self.plan.scale.advocates},
        )
        self.record.points_rules = POINTS_RULES
        self.record.fraud_rules = FRAUD_RULES
        key = await call(
            "POST",
            "/v1/directory/api-keys",
            headers=admin,
            json={"name": f"collector-{self.run_id}", "scopes": ["metrics:write"]},
        )
        self.collector: Headers = {"X-API-Key": key["secret"]}

    async def enrol_people(self) -> None:
        call, admin, scale = self.gw.call, self.admin, self.plan.scale
        for t in range(scale.teams):
            team = await call(
                "POST",
                "/v1/directory/teams",
                headers=admin,
                json={"name": f"Team {t + 1} {self.run_id}"},
            )
            self.team_ids.append(team["id"])
            self.record.teams[team["id"]] = team["name"]
        for role in ("editor", "approver"):
            self.people[role] = await self.person(role, role, [self.team_ids[0]])
        bar = self.progress.stage("advocates", scale.advocates)

        async def advocate(i: int) -> None:
            team = self.team_ids[self.plan.advocate_team[i]]
            self.people[f"a{i}"] = await self.person(f"adv{i}", "advocate", [team])
            bar.advance()

        self.advocate_ids = [""] * scale.advocates
        await bounded(scale.concurrency, advocate, scale.advocates)
        for i in range(scale.advocates):
            self.record.advocates[self.advocate_ids[i]] = self.team_ids[self.plan.advocate_team[i]]
        bar.done()

    async def person(self, name: str, role: str, teams: list[str]) -> Headers:
        email = f"{name}-{self.run_id}@sim.example.com"
        body: dict[str, Any] = {
            "email": email,
            "display_name": name.title(),
            "roles": [role],
            "team_ids": teams,
            "enrolment": "enrolled",
        }
        subject = f"sso-{name}-{self.run_id}"
        if self.sso is None:
            body["password"] = self.password
        else:
            body["external_subject"] = subject
        made = await self.gw.call("POST", "/v1/directory/people", headers=self.admin, json=body)
        if role == "advocate":
            self.advocate_ids[int(name.removeprefix("adv"))] = made["id"]
        if self.sso is not None:
            token = self.sso.token(self.tenant.tenant_id, subject, email)
            return {"Authorization": f"Bearer {token}"}
        return await self.gw.login(self.tenant.tenant_id, email, self.password)

    # -- content -------------------------------------------------------------------------
    async def publish_content(self) -> None:
        call, editor, approver = self.gw.call, self.people["editor"], self.people["approver"]
        bar = self.progress.stage("content", len(self.plan.items))

        async def publish(i: int) -> str:
            item = self.plan.items[i]
            body: dict[str, Any] = {
                "title": f"Story {i + 1}",
                "body": "What we did, and why it matters.",
                "category": item.category,
                "language": "en",
                "link_url": f"https://example.com/stories/{i + 1}",
                "campaign_hashtags": list(item.hashtags),
            }
            if item.team is not None:
                body["targeting"] = {"audience": "teams", "team_ids": [self.team_ids[item.team]]}
            made = await call("POST", "/v1/content/items", headers=editor, json=body, expect=(201,))
            await call("POST", f"/v1/content/items/{made['id']}/submit", headers=editor)
            approved = await call(
                "POST", f"/v1/content/items/{made['id']}/approve", headers=approver
            )
            self.record.content[made["id"]] = list(approved.get("campaign_hashtags", item.hashtags))
            bar.advance()
            return str(made["id"])

        self.content_ids = await bounded(self.plan.scale.concurrency, publish, len(self.plan.items))
        bar.done()
        await self.until_in_feeds()

    async def until_in_feeds(self, deadline: float = 120.0) -> None:
        """Sharing learns of approved content from `content.approved`: wait for it."""
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        for t in range(self.plan.scale.teams):
            member = next((i for i, team in enumerate(self.plan.advocate_team) if team == t), None)
            if member is None:
                continue
            wanted = {
                self.content_ids[it.index]
                for it in self.plan.items
                if it.team is None or it.team == t
            }
            while not wanted <= await self.feed(self.people[f"a{member}"]):
                if loop.time() > end:
                    raise TimeoutError(f"content did not reach team {t}'s feed in {deadline}s")
                await asyncio.sleep(0.2)

    async def feed(self, who: Headers) -> set[str]:
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = await self.gw.call("GET", "/v1/feed", headers=who, params=params)
            seen |= {i["content_id"] for i in page["items"]}
            cursor = page.get("next_cursor")
            if not cursor:
                return seen

    # -- sharing and traffic ---------------------------------------------------------------
    async def share(self) -> None:
        bar = self.progress.stage("shares", len(self.plan.shares))
        codes: dict[int, ShareRecord] = {}

        async def post(i: int) -> None:
            planned = self.plan.shares[i]
            content_id = self.content_ids[planned.item]
            made = await self.gw.call(
                "POST",
                "/v1/shares",
                headers=self.people[f"a{planned.advocate}"],
                json={"content_id": content_id, "network": planned.network},
                expect=(201,),
            )
            advocate_id = self.advocate_ids[planned.advocate]
            codes[i] = ShareRecord(
                share_id=made["id"],
                advocate_id=advocate_id,
                team_id=self.record.advocates[advocate_id],
                content_id=content_id,
                network=planned.network,
                hashtags=self.record.content[content_id],
                code=made["link"]["code"],
                posted_at=made.get("posted_at") or now(),
            )
            bar.advance()

        count = len(self.plan.shares)
        await bounded(self.plan.scale.concurrency, post, count)
        self.record.shares = [codes[i] for i in range(len(self.plan.shares))]
        bar.done()

    async def click(self) -> None:
        bar = self.progress.stage("clicks", len(self.plan.clicks))
        shares = self.record.shares

        trigger = len(self.plan.clicks) // 3

        async def visit(i: int) -> ClickRecord:
            planned = self.plan.clicks[i]
            share = shares[planned.share]
            status, attempts = await self.gw.click(share.code, planned.address, planned.user_agent)
            bar.advance()
            if bar.count == trigger and self.midway is not None:
                self._midway_task = asyncio.create_task(self.midway())
                self.midway_ran = True
            return ClickRecord(
                share.share_id,
                planned.address,
                planned.user_agent,
                planned.visit.value,
                status,
                now(),
                attempts,
            )

        self.record.clicks = await bounded(
            self.plan.scale.concurrency, visit, len(self.plan.clicks)
        )
        bar.done()

    async def report_engagement(self, batch: int = 200) -> None:
        reports = self.plan.reports
        bar = self.progress.stage("reported", len(reports))
        first: list[dict[str, Any]] = []
        for start in range(0, len(reports), batch):
            items = [
                self.report_item(start + k, r) for k, r in enumerate(reports[start : start + batch])
            ]
            first = first or items
            await self.post_reports(items)
            bar.advance(len(items))
        if first:
            # A collector retrying a batch it already delivered: every item a duplicate.
            answer = await self.post_reports(first, keep=False)
            if answer["duplicates"] != len(first):
                raise AssertionError(f"a replayed batch was not all duplicates: {answer}")
        bar.done()

    def report_item(self, n: int, planned: PlannedReport) -> dict[str, Any]:
        share = self.record.shares[planned.share]
        return {
            "source": COLLECTOR,
            "source_event_id": f"{self.run_id}-{n}",
            "share_id": share.share_id,
            "network": share.network,
            "kind": planned.kind,
            "count": planned.count,
            "cumulative": False,
            "occurred_at": now(),
        }

    async def post_reports(self, items: list[dict[str, Any]], *, keep: bool = True) -> Any:
        answer = await self.gw.call(
            "POST",
            "/v1/metrics/engagement",
            headers=self.collector,
            json={"items": items},
            expect=(207,),
        )
        if keep:
            for item, result in zip(items, answer["results"], strict=True):
                self.record.reports.append(
                    ReportRecord(
                        share_id=item["share_id"],
                        network=item["network"],
                        kind=item["kind"],
                        count=item["count"],
                        source_event_id=item["source_event_id"],
                        result=result["status"],
                    )
                )
        return answer
