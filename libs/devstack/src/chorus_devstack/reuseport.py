"""`python -m chorus_devstack.reuseport --workers N MODULE:APP --host H --port P`.

A service as N uvicorn processes, each listening on its own `SO_REUSEPORT` socket
bound to the same address, so the kernel spreads new connections over them.

Why not `uvicorn --workers N`: its workers share one listening socket, and the
worker that wakes first accepts every connection queued (libuv drains the
backlog). Measured with 2 workers and a burst of 32 keep-alive connections (a
load generator, a gateway's pool): 31 went to one worker, 1 to the other, so one
core served the redirects and the other idled. With a socket per worker the
kernel hashes each connection to one of them.

Each worker only joins the group when it listens, which uvicorn does after the
app's startup: no connection waits on a worker that is still starting.

The parent supervises: SIGTERM/SIGINT are passed to every worker (each shuts
down gracefully); if one worker dies, the others are stopped and the parent exits
with its status, so a launcher sees one service that died, never half of one.
The workers also get SIGKILL if the parent dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import socket
import subprocess
import sys
from types import FrameType

_PR_SET_PDEATHSIG = 1


def serve_worker(app: str, host: str, port: int, log_level: str, access_log: bool) -> None:
    """One worker: bind (not listen yet) a reuse-port socket, let uvicorn serve it."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=access_log)
    uvicorn.Server(config).run(sockets=[sock])


def _die_with_parent() -> None:
    with_libc = ctypes.CDLL(None, use_errno=True)
    with_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def port_is_free(host: str, port: int) -> bool:
    """Whether a plain bind (no SO_REUSEPORT) succeeds: a listener left over from an
    earlier launch would otherwise join the new workers' group and take a share of
    the connections without anyone noticing."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def supervise(worker_cmd: list[str], workers: int) -> int:
    children = [subprocess.Popen(worker_cmd, preexec_fn=_die_with_parent) for _ in range(workers)]
    stopping = False

    def stop(_signum: int | None = None, _frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    running = {child.pid for child in children}
    while running:
        pid, wait_status = os.wait()
        if pid not in running:
            continue
        running.discard(pid)
        code = os.waitstatus_to_exitcode(wait_status)
        next(c for c in children if c.pid == pid).returncode = code  # reaped here, not by Popen
        if not stopping:
            print(f"reuseport: worker {pid} exited ({code}); stopping the others", file=sys.stderr)
            status = code if code > 0 else 1
            stop()
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("app", help="MODULE:APP, as uvicorn takes it")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", dest="access_log", action="store_false")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        serve_worker(args.app, args.host, args.port, args.log_level, args.access_log)
        return 0
    worker_cmd = [sys.executable, "-m", "chorus_devstack.reuseport", "--worker", args.app,
                  "--host", args.host, "--port", str(args.port), "--log-level", args.log_level,
                  *([] if args.access_log else ["--no-access-log"])]  # fmt: skip
    if not port_is_free(args.host, args.port):
        print(f"reuseport: {args.host}:{args.port} is already in use", file=sys.stderr)
        return 1
    return supervise(worker_cmd, args.workers)


if __name__ == "__main__":
    sys.exit(main())
