"""Every Prometheus metric Chorus exports, in one place, each with why it exists.

Names follow Prometheus conventions (`_total` counters, `_seconds` histograms);
labels are bounded (route templates, topics, consumer groups — never ids).
Services add business counters in their own `metrics.py` next to their code but
through the same default registry, so `/metrics` shows everything.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# --- HTTP (RED per route template; the template keeps cardinality bounded) ---
HTTP_REQUESTS = Counter(
    "chorus_http_requests_total",
    "HTTP requests handled, by route template and status code.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "chorus_http_request_duration_seconds",
    "Time from request received to response sent, by route template.",
    ["service", "method", "route"],
    buckets=_LATENCY_BUCKETS,
)

# --- Events: what flows through Kafka, per topic ---
EVENTS_PRODUCED = Counter(
    "chorus_events_produced_total",
    "Events acknowledged by Kafka (acks=all).",
    ["service", "topic"],
)
EVENTS_CONSUMED = Counter(
    "chorus_events_consumed_total",
    "Events whose effects were committed by a consumer group.",
    ["service", "topic", "group"],
)
EVENTS_FAILED = Counter(
    "chorus_events_failed_total",
    "Batch attempts that failed with a transient error and will be retried.",
    ["service", "topic", "group"],
)
EVENTS_DEAD_LETTERED = Counter(
    "chorus_events_dead_lettered_total",
    "Poison messages published to <topic>.dlq, by reason.",
    ["service", "topic", "group", "reason"],
)
EVENTS_DUPLICATE = Counter(
    "chorus_events_duplicate_total",
    "Redelivered events skipped because their id was already processed.",
    ["service", "topic", "group"],
)
TRACKING_PURGED = Counter(
    "chorus_consumer_tracking_purged_total",
    "Tracking rows (processed event ids) deleted once their events could no longer be redelivered.",
    ["service", "group"],
)
CONSUMER_BATCH_SIZE = Histogram(
    "chorus_consumer_batch_size",
    "Messages per handled batch.",
    ["service", "group"],
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500),
)
CONSUMER_BATCH_LATENCY = Histogram(
    "chorus_consumer_batch_duration_seconds",
    "Time to decode, handle and commit one batch.",
    ["service", "group"],
    buckets=_LATENCY_BUCKETS,
)
AFTER_COMMIT_FAILURES = Counter(
    "chorus_consumer_after_commit_failures_total",
    "Committed batches whose side effect (e.g. Redis rankings) failed every retry: "
    "derived state is stale until rebuilt from Postgres.",
    ["service", "group"],
)
CONSUMER_RUNNING = Gauge(
    "chorus_consumer_running",
    "1 while a consumer group's runner is alive; 0 once it stopped or crashed (alert on it).",
    ["service", "group"],
)
CONSUMER_LAG = Gauge(
    "chorus_consumer_lag_messages",
    "High watermark minus committed position, per assigned partition.",
    ["service", "group", "topic", "partition"],
)

# --- Outbox: the producing half of the delivery guarantee ---
OUTBOX_BACKLOG = Gauge(
    "chorus_outbox_backlog_events",
    "Outbox rows not yet published to Kafka (grows while Kafka is unreachable).",
    ["service"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "chorus_outbox_oldest_unsent_age_seconds",
    "Age of the oldest unpublished outbox row: freshness of the event stream.",
    ["service"],
)
OUTBOX_PUBLISH_LATENCY = Histogram(
    "chorus_outbox_publish_latency_seconds",
    "Time from outbox append (commit) to Kafka acknowledgement.",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
OUTBOX_PUBLISH_ERRORS = Counter(
    "chorus_outbox_publish_errors_total",
    "Relay publish attempts that failed (Kafka unreachable, timeouts).",
    ["service"],
)

# --- Readiness, as seen by the service itself ---
DEPENDENCY_UP = Gauge(
    "chorus_dependency_up",
    "1 when the last readiness probe reached the dependency, else 0.",
    ["service", "dependency"],
)
