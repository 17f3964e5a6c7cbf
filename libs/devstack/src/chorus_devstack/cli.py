"""`chorus-stack` / `python -m chorus_devstack`: run the local stack by hand.

up [--infra-only]   start Kafka, Postgres, Redis (and migrate + start the services)
down [--wipe]       stop what we started; --wipe also deletes their data
status              one line per component: running?, pid, who started it, address
start|stop|restart NAME   one component: kafka, postgres, redis or a service name
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from chorus_devstack.component import StackError
from chorus_devstack.demo import DEMO_TENANT, credentials_file, seed_demo
from chorus_devstack.settings import SERVICE_PORTS, Endpoints
from chorus_devstack.stack import LocalStack

COMPONENT_NAMES = ["kafka", "postgres", "redis", *SERVICE_PORTS]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chorus-stack", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the stack (idempotent)")
    up.add_argument("--infra-only", action="store_true", help="only Kafka, Postgres, Redis")
    up.add_argument("--no-demo", action="store_true", help="do not seed the demo tenant")
    down = commands.add_parser("down", help="stop what `up` started")
    down.add_argument("--wipe", action="store_true", help="also delete the engines' data")
    commands.add_parser("status", help="show every component")
    for verb in ("start", "stop", "restart"):
        one = commands.add_parser(verb, help=f"{verb} one component")
        one.add_argument("name", choices=COMPONENT_NAMES)
    return parser


def print_status(stack: LocalStack) -> None:
    for status in stack.status():
        print(status.line())


def print_summary(stack: LocalStack, endpoints: Endpoints, infra_only: bool) -> None:
    if infra_only:
        print("\nChorus engines are up (services not started):")
    else:
        gateway = next(s for s in stack.services if s.name == "gateway")
        print(f"\nChorus is up: gateway {gateway.url}")
        for service in stack.services:
            print(f"  {service.name:<9} {service.url}  (log {service.log})")
    print(f"  kafka     {endpoints.kafka_bootstrap}")
    print(f"  postgres  {endpoints.database_url}")
    print(f"  redis     {endpoints.redis_url}")
    print(f"  env file  {stack.paths.stack_env}   (set -a; . {stack.paths.stack_env}; set +a)")
    print(f"  logs      {stack.paths.local}/{{kafka/logs,postgres,redis,services}}")


def run(args: argparse.Namespace, stack: LocalStack) -> int:
    began = time.monotonic()
    if args.command == "up":
        endpoints = stack.up(infra_only=args.infra_only)
        if not (args.infra_only or args.no_demo):
            gateway = next(s for s in stack.services if s.name == "gateway")
            seed_demo(stack.paths, stack.python, gateway.url, stack.service_env(endpoints))
        print_summary(stack, endpoints, args.infra_only)
        if not args.infra_only and credentials_file(stack.paths).exists():
            print(f"  demo      tenant '{DEMO_TENANT}', admin sign-in in "
                  f"{credentials_file(stack.paths)}")  # fmt: skip
    elif args.command == "down":
        stopped = stack.down(wipe=args.wipe)
        print(f"stopped: {', '.join(stopped) or 'nothing (none of it was ours)'}")
        if args.wipe:
            print(f"wiped data under {stack.paths.local} (Kafka jars kept)")
    elif args.command == "status":
        print_status(stack)
        return 0
    elif args.command == "stop":
        stopped_one = stack.stop_component(args.name)
        print(f"{args.name}: {'stopped' if stopped_one else 'not running, or not ours'}")
    else:
        if args.command == "restart":
            stack.stop_component(args.name)
        stack.start_component(args.name)
        print(f"{args.name}: running")
    print(f"({time.monotonic() - began:.1f}s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args, LocalStack())
    except StackError as exc:
        print(f"chorus-stack {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `chorus-stack status | head`: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
