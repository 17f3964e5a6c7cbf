"""What a run did, as the platform acknowledged it: the only input of `expect`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ShareRecord:
    share_id: str
    advocate_id: str
    team_id: str
    content_id: str
    network: str
    hashtags: list[str]
    code: str
    posted_at: str


@dataclass
class ClickRecord:
    share_id: str
    address: str
    user_agent: str
    visit: str
    status: int
    at: str
    attempts: int = 1
    """Failed attempts before the final one may or may not have been recorded."""


@dataclass
class ReportRecord:
    share_id: str
    network: str
    kind: str
    count: int
    source_event_id: str
    result: str
    """accepted | duplicate | invalid, as the ingestion API answered."""


@dataclass
class Record:
    tenant_id: str
    time_zone: str
    started_at: str
    teams: dict[str, str] = field(default_factory=dict)
    """team id -> name"""
    advocates: dict[str, str] = field(default_factory=dict)
    """advocate id -> team id"""
    content: dict[str, list[str]] = field(default_factory=dict)
    """content id -> campaign hashtags"""
    shares: list[ShareRecord] = field(default_factory=list)
    clicks: list[ClickRecord] = field(default_factory=list)
    reports: list[ReportRecord] = field(default_factory=list)
    points_rules: dict[str, Any] = field(default_factory=dict)
    fraud_rules: dict[str, Any] = field(default_factory=dict)
    finished_at: str = ""

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> Record:
        raw = json.loads(path.read_text())
        record = cls(**{k: v for k, v in raw.items() if k not in ("shares", "clicks", "reports")})
        record.shares = [ShareRecord(**s) for s in raw["shares"]]
        record.clicks = [ClickRecord(**c) for c in raw["clicks"]]
        record.reports = [ReportRecord(**r) for r in raw["reports"]]
        return record
