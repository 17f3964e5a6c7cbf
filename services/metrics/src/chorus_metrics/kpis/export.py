"""CSV export of a KPI report: one header row naming each figure with its measurement."""

from __future__ import annotations

import csv
import io

from chorus_metrics.kpis.schemas import KpiReport


def header(report: KpiReport) -> list[str]:
    """'clicks (measured)', 'engagement (measured+reported)'; keys stay bare."""
    return [
        f"{column} ({'+'.join(m.value for m in report.measurement[column])})"
        if column in report.measurement
        else column
        for column in report.columns
    ]


def to_csv(report: KpiReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header(report))
    for row in report.rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in report.columns])
    return out.getvalue()
