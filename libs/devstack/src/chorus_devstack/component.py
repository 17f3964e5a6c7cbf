"""What every managed piece of the stack (engines and services) looks like to the manager."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from chorus_devstack import procs

Owner = Literal["us", "external", "-"]


class StackError(RuntimeError):
    """A component failed to start or answer; the message says which, where, and why."""

    @classmethod
    def not_ready(
        cls, component: str, address: str, reason: str, logs: Sequence[Path] = ()
    ) -> StackError:
        message = f"{component} at {address} is not ready: {reason}"
        if logs:
            message += f" (logs: {', '.join(map(str, logs))})"
        for log in logs:
            if log.exists():
                message += f"\n--- last lines of {log} ---\n{procs.tail(log)}"
        return cls(message)


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    running: bool
    owner: Owner
    address: str
    pid: int | None = None
    log: Path | None = None

    def line(self) -> str:
        state = "running" if self.running else "stopped"
        pid = str(self.pid) if self.pid is not None else "-"
        log = f"  log={self.log}" if self.log is not None else ""
        return f"{self.name:<9} {state:<8} pid={pid:<8} by={self.owner:<8} {self.address}{log}"


class Component(Protocol):
    """A server the stack can start, stop and probe."""

    name: str

    def managed_pid(self) -> int | None:
        """Pid of the process we started, if it still runs."""
        ...

    def status(self) -> ComponentStatus:
        """Current state, without starting anything."""
        ...

    def ensure(self) -> str:
        """Make the component answer (starting it if it is ours to start); its endpoint."""
        ...

    def stop(self) -> bool:
        """Stop it if we started it; True if something was stopped."""
        ...

    def wipe(self) -> None:
        """Delete its data (it must be stopped)."""
        ...
