"""The ledger consumer's own Python per event, with no Kafka, PostgreSQL or Redis.

Runs `LedgerConsumer` (valuing, standings fold, board cells, the statements'
parameters, the RESP of the batch's ZADDs) over the throughput phase's workload
(`rewards_bench.Workload`, fixed seeds) in batches, against in-memory stand-ins of
what the repository functions read and write: standings rows round-trip through
their packed bytes, every statement's parameters are built by the real code and
hashed instead of sent. Prints the process CPU per event and a digest of
everything the handler would have sent (statement parameters, ZADD commands,
expiries), so two versions of the code can be checked for identical output:

    PYTHONHASHSEED=0 .venv/bin/python bench/rewards_handler_cpu.py [--events 20000]
    PYTHONHASHSEED=0 PYTHONPATH=/tmp/before .venv/bin/python bench/rewards_handler_cpu.py

(`PYTHONHASHSEED=0`: set iteration order decides the order of some rows.) Not a
figure of the service: no asyncpg, aiokafka, envelope decoding or runner, and the
loads are dictionary look-ups. What it is for: the part of the consumer's CPU that
is this service's own code, measured without the noise of the stack.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from chorus_events.contracts.registry import ENGAGEMENT_UPDATED, SHARE_POSTED
from chorus_events.contracts.sharing import SharePosted
from chorus_platform.gc_tuning import freeze_startup_objects, tune_gc
from chorus_platform.packed import rows
from chorus_rewards import consumers, resp
from chorus_rewards.accrual import ShareProgress, TenantContext
from chorus_rewards.board_changes import BoardChanges
from chorus_rewards.periods import zone
from chorus_rewards.repository import ledger, standings
from chorus_rewards.rules import DEFAULT_RULES, RuleBook, RulesVersion
from rewards_bench import Workload

digest = hashlib.sha256()
_ids = random.Random(9)
uuid.uuid4 = lambda: uuid.UUID(int=_ids.getrandbits(128), version=4)  # the workload's ids


class Store:
    """What the consumer's statements would read back, kept between batches."""

    def __init__(self, tenants: list[str]) -> None:
        book = RuleBook([RulesVersion(version=1, effective_from=None, rules=DEFAULT_RULES)])
        self.contexts = {t: TenantContext(t, zone("UTC"), book) for t in tenants}
        self.accounts: dict[tuple[str, str], tuple[int, int | None, int]] = {}
        self.shares: set[tuple[str, str]] = set()
        self.progress: dict[tuple[str, str], tuple[Any, ...]] = {}
        self.cap_days: dict[tuple[str, str, int], dict[tuple[str, str, str, int], int]] = {}
        self.standings: dict[tuple[str, str, str], bytes] = {}


class Connection:
    """Statements are built by the real repository code, then only hashed."""

    async def execute(self, *args: Any) -> None:
        _hash(args)

    async def fetch(self, *args: Any) -> list[Any]:
        _hash(args)
        return []


def _hash(args: tuple[Any, ...]) -> None:
    for a in args:
        digest.update(a if isinstance(a, bytes) else str(a).encode())


def install(store: Store) -> None:
    """Replace the repository functions that read with in-memory versions (the writes
    keep their own code, on `Connection`, and record what they wrote)."""
    write_batch, save, insert = ledger.write_batch, standings.save, ledger.insert_shares

    async def lock_tenants_shared(conn: Any, tenants: Sequence[str]) -> None:
        return None

    async def load_contexts(conn: Any, tenants: Sequence[str]) -> dict[str, TenantContext]:
        return {t: store.contexts[t] for t in tenants}

    async def lock_advocates(
        conn: Any, advocates: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], ledger.AccountRow]:
        keys = sorted(set(advocates))
        rows(keys)
        return {k: ledger.AccountRow(*k, *store.accounts.get(k, (0, None, 0))) for k in keys}

    async def insert_shares(conn: Any, new: Sequence[ledger.NewShare]) -> set[tuple[str, str]]:
        await insert(conn, new)  # the real statement, hashed
        fresh = {(s.tenant_id, s.share_id) for s in new} - store.shares
        store.shares |= fresh
        return fresh

    async def load_progress(
        conn: Any, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], ShareProgress]:
        found = [store.progress[k] for k in set(keys) if k in store.progress]
        return {(p[0], p[1]): ShareProgress(*p[:4], list(p[4]), list(p[5])) for p in found}

    async def load_cap_days(
        conn: Any, days: Iterable[tuple[str, str, int]]
    ) -> dict[tuple[str, str, str, int], int]:
        usage: dict[tuple[str, str, str, int], int] = {}
        for day in set(days):
            usage.update(store.cap_days.get(day, {}))
        return usage

    async def load_caps(
        conn: Any, keys: Iterable[tuple[str, str, str, int]]
    ) -> dict[tuple[str, str, str, int], int]:  # what older code calls
        return await load_cap_days(conn, {(k[0], k[1], k[3]) for k in keys})

    async def write_batch_kept(conn: Any, **kw: Any) -> None:
        await write_batch(conn, **kw)
        for p in kw.get("progress", ()):
            store.progress[(p.tenant_id, p.share_id)] = (
                p.tenant_id, p.share_id, p.advocate_id, p.sequence, list(p.counts), list(p.paid)
            )  # fmt: skip
        for (t, a, action, d), granted in (kw.get("caps") or {}).items():
            store.cap_days.setdefault((t, a, d), {})[(t, a, action, d)] = granted
        for a in kw.get("accounts", ()):
            store.accounts[(a.tenant_id, a.advocate_id)] = (a.shares, a.streak_week, a.streak_weeks)

    async def load_standings(
        conn: Any, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], standings.Standing]:
        found: dict[tuple[str, str, str], standings.Standing] = {}
        for k in set(keys):
            packed = store.standings.get(k)
            if packed is not None:
                row = {"tenant_id": k[0], "advocate_id": k[1], "scope": k[2], "packed": packed}
                found[k] = standings._unpack(row)
        return found

    async def save_standings(conn: Any, saved: Sequence[standings.Standing]) -> None:
        await save(conn, saved)
        for st in saved:
            store.standings[(st.tenant_id, st.advocate_id, st.scope)] = standings._pack(st)

    consumers.lock_tenants_shared = lock_tenants_shared  # type: ignore[assignment]
    consumers.load_contexts = load_contexts  # type: ignore[assignment]
    for name, fake in (
        ("lock_advocates", lock_advocates),
        ("insert_shares", insert_shares),
        ("load_progress", load_progress),
        ("load_caps", load_caps),
        ("load_cap_days", load_cap_days),
        ("write_batch", write_batch_kept),
    ):
        setattr(ledger, name, fake)
    standings.load = load_standings  # type: ignore[assignment]
    standings.save = save_standings  # type: ignore[assignment]


class Writer:
    """`BoardWriter.write`'s encoding, hashed instead of sent."""

    async def write_after_commit(self, changes: BoardChanges) -> None:
        bulks: dict[str, bytes] = {}
        for boards in changes.scores.values():
            for key, members in boards.items():
                digest.update(resp.zadd(key, members, bulks))
                digest.update(repr(changes.expiry.get(key)).encode())
        for tenant_id in changes.scores:
            resp.command("PUBLISH", *changes.notice(tenant_id))


async def run(args: argparse.Namespace) -> None:
    tenants = [f"bench-cpu-{i}" for i in range(args.tenants)]
    workload = Workload("cpu.", tenants, args.advocates)
    start = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    batch = []
    for i in range(args.events):
        event = workload.next_event(start - timedelta(seconds=args.events - i))
        spec = SHARE_POSTED if isinstance(event, SharePosted) else ENGAGEMENT_UPDATED
        batch.append(SimpleNamespace(id=str(uuid.uuid4()), type=spec.ce_type, payload=event))
    store = Store(tenants)
    install(store)
    handler = consumers.LedgerConsumer(Writer())  # type: ignore[arg-type]
    conn = Connection()
    tune_gc()
    freeze_startup_objects()
    started = time.process_time()
    for i in range(0, len(batch), args.batch_size):
        after = await handler(batch[i : i + args.batch_size], conn)  # type: ignore[arg-type]
        if after is not None:
            await after()
    cpu = time.process_time() - started
    print(
        f"handler CPU {cpu / args.events * 1e6:.1f} us/event over {args.events:,} events "
        f"({len(store.standings):,} standings rows); output digest {digest.hexdigest()[:16]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--advocates", type=int, default=20_000)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=1000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
