"""How a service process is launched: the uvicorn command and what its workers need.

Every service runs as one uvicorn process by default; `CHORUS_<SERVICE>_WORKERS=N`
runs N (through `chorus_devstack.reuseport`). Tried for sharing's redirect (issue
#5, bench/README.md): two processes cost ~40% more CPU per redirect than one and,
since the platform's GC tuning, served no more redirects on the 2-core machine,
so the default stayed at one. The option stays, tested (`make up`, the e2e kill
test and the bench ran with two).

Several workers (`chorus_devstack.reuseport`: one `SO_REUSEPORT` socket each) share
one port, one set of settings and the same Postgres, Kafka consumer groups and
Redis, like replicas behind a load balancer; what else they need, set here:

* `PROMETHEUS_MULTIPROC_DIR`: a scrape reaches one worker; with this directory
  each worker writes its metrics there and `/metrics` sums them all
  (`chorus_platform.app`), so a counter does not jump between workers' values.
  It is emptied before each start: files of dead processes would count again.
* a launcher that kills a service kills its process group, not the supervisor
  alone (its workers would keep serving the port until they notice).
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

DEFAULT_WORKERS: dict[str, int] = {"sharing": 2}
"""Per-service defaults other than one process.

sharing: the public redirect. One process carried 2,000 redirects/s at ~440 µs of CPU
each (~90% of a core), so any stall of a few tens of ms (a late Kafka ack) took many
times its length to drain; two keep each near 60% and met p99 <= 25 ms at 2,000/s in
every open-loop run (services/sharing/README.md, "Worker processes")."""
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def service_workers(service: str, environ: Mapping[str, str]) -> int:
    """Worker processes for `service`: `CHORUS_<SERVICE>_WORKERS`, else its default."""
    raw = environ.get(f"CHORUS_{service.upper()}_WORKERS", "").strip()
    if raw:
        workers = int(raw)
        if workers < 1:
            raise ValueError(f"CHORUS_{service.upper()}_WORKERS must be at least 1, not {raw}")
        return workers
    return DEFAULT_WORKERS.get(service, 1)


def uvicorn_command(
    python: str, service: str, host: str, port: int, *, workers: int, extra: Sequence[str] = ()
) -> list[str]:
    """One process: uvicorn itself; several: `chorus_devstack.reuseport` (why: there).

    `extra` may hold `--log-level LEVEL` and `--no-access-log` (both understand them).
    """
    runner = ["uvicorn"]
    if workers > 1:
        runner = ["chorus_devstack.reuseport", "--workers", str(workers)]
    return [python, "-m", *runner, f"chorus_{service}.app:app", "--host", host,
            "--port", str(port), *extra]  # fmt: skip


def workers_env(workers: int, metrics_dir: Path) -> dict[str, str]:
    """Environment for a launch with `workers` processes; empties `metrics_dir` first."""
    if workers <= 1:
        return {}
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    return {MULTIPROC_ENV: str(metrics_dir)}


def click_salt(internal_token_secret: str) -> str:
    """The visitor-fingerprint key, derived from the stack's secret.

    Every sharing process of a stack must use the same one (and keep it across
    restarts), or one visitor gets one fingerprint per process.
    """
    return hmac.new(
        internal_token_secret.encode(), b"chorus-sharing-click-salt", hashlib.sha256
    ).hexdigest()
