"""Installing the distribution's packages on a node or host: which package manager it has
(probed by the fact scripts that need to know), and one step shape for "install this
program from the distribution" that the cache and the balancer share (csync2's install,
which needs EPEL on RHEL, keeps its own)."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

from .connection import NodeHandle
from .errors import NodeCheckError
from .facts.cache import FactArea
from .plan import Blocked, Change, NoOp, Outcome, Payload, Run, Step

PACKAGE_MANAGERS = ("apt-get", "dnf", "yum")
# Prints the first package manager the container has (one probe, used by the preflight too).
MANAGER_PROBE = ("manager() { for m in " + " ".join(PACKAGE_MANAGERS) + "; do "
                 'command -v "$m" > /dev/null 2>&1 && echo "$m" && return; done; }\n')


def known_manager(text: str) -> str | None:
    """Only a manager we know how to drive: the name is data from the node."""
    return text if text in PACKAGE_MANAGERS else None


def install_argv(manager: str, packages: list[str]) -> list[str]:
    return ["env", "DEBIAN_FRONTEND=noninteractive", manager, "install", "-y", "-q", *packages]


async def install(handle: NodeHandle, manager: str, packages: list[str]) -> None:
    argv = install_argv(manager, packages)
    done = await handle.container.run(argv, timeout=900, check=False)
    if not done.ok:
        raise NodeCheckError(handle.name, f"installing {' '.join(packages)} failed: "
                             f"{done.first_error_line()}; run '{' '.join(argv[2:])}' there "
                             "and read its error")


@dataclass(frozen=True)
class InstallPayload(Payload):
    manager: str


class PackageInstallStep(Step):
    """Installs ``program`` from the distribution (``packages`` per manager) when the
    area's facts say it is missing (``installed``), with the manager they found."""

    program: ClassVar[str]
    packages: ClassVar[dict[str, list[str]]]
    area: ClassVar[FactArea[Any]]

    @abc.abstractmethod
    def installed(self, facts: Any) -> bool:
        """Whether the facts show the program."""

    @abc.abstractmethod
    def manager(self, facts: Any) -> str | None:
        """The package manager the facts found."""

    async def plan_node(self, handle: NodeHandle, run: Run) -> Outcome:
        facts = await run.facts.of(self.area, handle)
        if self.installed(facts):
            return NoOp(handle.name, self.name, f"{self.program} is installed")
        manager = self.manager(facts)
        if manager is None:
            return Blocked(handle.name, self.name, f"{self.program} is not installed and no "
                           "package manager was found",
                           f"install {self.program} from the distribution")
        return Change(handle.name, self.name,
                      f"install {' '.join(self.packages[manager])} with {manager}",
                      payload=InstallPayload(manager))

    async def apply_change(self, handle: NodeHandle, change: Change, run: Run) -> None:
        assert isinstance(change.payload, InstallPayload)
        await install(handle, change.payload.manager, self.packages[change.payload.manager])
