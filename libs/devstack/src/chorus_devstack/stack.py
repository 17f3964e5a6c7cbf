"""`LocalStack`: the Python API behind the CLI and the pytest plugin.

Engines start concurrently (the JVM's start-up dominates; Postgres and Redis fit inside
it). `down` stops only what we started, services before the engines they depend on.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from chorus_devstack.component import Component, ComponentStatus, StackError
from chorus_devstack.envfile import internal_token_secret, write_env_file
from chorus_devstack.kafka import KafkaBroker
from chorus_devstack.lock import StackLock
from chorus_devstack.paths import StackPaths, find_repo_root
from chorus_devstack.postgres import PostgresServer
from chorus_devstack.redis_server import RedisServer
from chorus_devstack.services import ServiceProcess, start_services
from chorus_devstack.serving import click_salt
from chorus_devstack.settings import (
    INFRA_COMPONENTS,
    SECRET_ENV,
    SERVICE_PORTS,
    Endpoints,
    service_wiring_env,
)


class LocalStack:
    def __init__(self, root: Path | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.paths = StackPaths(root if root is not None else find_repo_root(environ=self.environ))
        self.components: dict[str, Component] = {
            "kafka": KafkaBroker(self.paths, self.environ),
            "postgres": PostgresServer(self.paths, self.environ),
            "redis": RedisServer(self.paths, self.environ),
        }
        python = self.paths.venv_python if self.paths.venv_python.exists() else Path(sys.executable)
        self.python = python
        self.services = [
            ServiceProcess(self.paths, name, port, python) for name, port in SERVICE_PORTS.items()
        ]
        self.lock = StackLock(self.paths.lock_file)

    def _component(self, name: str) -> Component:
        if name not in self.components:
            raise KeyError(f"unknown component {name!r}; one of {', '.join(self.components)}")
        return self.components[name]

    def _service(self, name: str) -> ServiceProcess:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(f"unknown component {name!r}")

    def ensure(self, names: Iterable[str] = INFRA_COMPONENTS) -> dict[str, str]:
        """Make the named engines answer, starting ours if needed; name -> endpoint."""
        chosen = [self._component(name) for name in names]
        with self.lock, ThreadPoolExecutor(max_workers=len(chosen) or 1) as pool:
            futures = {c.name: pool.submit(c.ensure) for c in chosen}
        errors = [str(f.exception()) for f in futures.values() if f.exception() is not None]
        if errors:
            raise StackError("\n\n".join(errors))
        return {name: future.result() for name, future in futures.items()}

    def ensure_infra(self) -> Endpoints:
        found = self.ensure(INFRA_COMPONENTS)
        return Endpoints(found["kafka"], found["postgres"], found["redis"])

    def is_managed(self, name: str) -> bool:
        return self._component(name).managed_pid() is not None

    def start_component(self, name: str) -> None:
        with self.lock:
            if name in self.components:
                self.ensure([name])
                return
            service = self._service(name)
            service.wait_ready(service.spawn(self.service_env(self.ensure_infra())))

    def stop_component(self, name: str) -> bool:
        with self.lock:
            if name in self.components:
                return self._component(name).stop()
            return self._service(name).stop()

    def service_env(self, endpoints: Endpoints) -> dict[str, str]:
        return {**self.environ, **self.stack_env(endpoints)}

    def stack_env(self, endpoints: Endpoints) -> dict[str, str]:
        secret = internal_token_secret(self.paths.secret_file)
        # The click salt keys visitor fingerprints: it must survive restarts, or a
        # returning visitor looks new (and a duplicate click counts twice).
        salt = click_salt(secret)
        return {
            **endpoints.as_env(),
            SECRET_ENV: secret,
            "CHORUS_SHARING_CLICK_SALT": salt,
            **service_wiring_env(),
        }

    def up(self, *, infra_only: bool = False) -> Endpoints:
        with self.lock:
            endpoints = self.ensure_infra()
            write_env_file(self.paths.stack_env, self.stack_env(endpoints))
            if not infra_only:
                start_services(self.paths, self.python, self.services, self.service_env(endpoints))
            return endpoints

    def down(self, *, wipe: bool = False) -> list[str]:
        """Stop what we started (services first); with `wipe`, delete the engines' data."""
        stopped: list[str] = []
        with self.lock:
            for service in self.services:
                if service.stop():
                    stopped.append(service.name)
            for component in reversed(list(self.components.values())):
                if component.stop():
                    stopped.append(component.name)
            if wipe:
                self._wipe()
        return stopped

    def _wipe(self) -> None:
        running = [s.name for s in self.status() if s.running and s.owner == "us"]
        if running:
            raise StackError(f"refusing to wipe while {', '.join(running)} still run")
        for component in self.components.values():
            component.wipe()
        for service in self.services:
            service.log.unlink(missing_ok=True)
        # The demo's record and credentials describe data that no longer exists.
        shutil.rmtree(self.paths.local / "sim", ignore_errors=True)
        self.paths.stack_env.unlink(missing_ok=True)

    def status(self) -> list[ComponentStatus]:
        everything: list[Component | ServiceProcess] = [*self.components.values(), *self.services]
        with ThreadPoolExecutor(max_workers=len(everything)) as pool:
            return list(pool.map(lambda c: c.status(), everything))
