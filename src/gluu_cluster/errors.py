"""One root error for everything the tool reports to an operator.

Every error carries a one-line message that names the node (when there is one) and
what to do, and the exit code the CLI returns for it.  Low-level errors (asyncssh,
OSError, pydantic, subprocess) are translated at the edge with ``raise ... from``.

    GluuClusterError                      exit 1 unless noted
    ├── UsageError                        exit 2: bad command-line use
    ├── InventoryError                    exit 2: the inventory file is wrong
    ├── SecretError                       exit 2: a secret cannot be read or is exposed
    ├── TransportError                    reaching a node failed (has .node)
    │   ├── UnreachableError              no TCP connection / connection lost
    │   ├── AuthRefusedError              the node refused our key or user
    │   ├── HostKeyUnknownError           host key not in known_hosts (no accept-new)
    │   ├── HostKeyChangedError           host key differs from known_hosts
    │   ├── CommandTimeoutError           a command or connection exceeded its timeout
    │   └── CommandFailedError            a command exited non-zero where that is an error
    ├── NodeCheckError                    a node fails a precondition found while planning (has .node)
    │   └── LDAPCommandError              an LDAP tool on the node failed (ldapsearch, ldapmodify ...)
    ├── FactsError                        facts could not be read on some nodes (has .failures)
    │   └── PlanError                     ... while planning: the plan names every such node
    ├── StepError                         a plan step failed while applying (has .node, .step)
    ├── ApplyRunningError                 another apply of the same cluster holds its lock
    └── LabError                          the local lab cannot be created or torn down
"""

from __future__ import annotations

from collections.abc import Iterable


class GluuClusterError(Exception):
    """Root of every error the tool reports; ``str()`` is the one-line message."""

    exit_code = 1


class UsageError(GluuClusterError):
    exit_code = 2


class InventoryError(GluuClusterError):
    exit_code = 2


class SecretError(GluuClusterError):
    exit_code = 2


class TransportError(GluuClusterError):
    """Reaching a node failed.  The message always starts with the node's name."""

    hint = "check the node and run again"

    def __init__(self, node: str, detail: str, hint: str | None = None) -> None:
        self.node = node
        self.detail = detail
        if hint is not None:
            self.hint = hint
        super().__init__(f"{node}: {detail}; {self.hint}")


class UnreachableError(TransportError):
    hint = "check that the node is up, its address and SSH port are right, and no firewall blocks it"


class AuthRefusedError(TransportError):
    hint = "check ssh.user and ssh.identity_file in the inventory and the node's authorized_keys"


class HostKeyUnknownError(TransportError):
    hint = (
        "verify the node's host key and add it to ssh.known_hosts, "
        "or run again with --accept-new-host-keys"
    )


class HostKeyChangedError(TransportError):
    hint = (
        "the node's host key differs from ssh.known_hosts: if the node was reinstalled, "
        "remove its old line from known_hosts after verifying the new key; otherwise stop, "
        "this may be an attack"
    )


class CommandTimeoutError(TransportError):
    hint = "the node or a service on it is stalled; check its load and processes"


class CommandFailedError(TransportError):
    hint = "fix the cause on the node and run again"


class NodeCheckError(GluuClusterError):
    def __init__(self, node: str, detail: str) -> None:
        self.node = node
        self.detail = detail
        super().__init__(f"{node}: {detail}")


class LDAPCommandError(NodeCheckError):
    pass


class FactsError(GluuClusterError):
    """Facts could not be read on some nodes; each failure names its node."""

    def __init__(self, failures: Iterable[GluuClusterError]) -> None:
        # The same failure seen by several steps or nodes is said once.
        self.failures = tuple({str(f): f for f in failures}.values())
        super().__init__("; ".join(str(f) for f in self.failures))


class PlanError(FactsError):
    pass


class StepError(GluuClusterError):
    def __init__(self, node: str, step: str, detail: str) -> None:
        self.node = node
        self.step = step
        self.detail = detail
        super().__init__(f"{node}: step '{step}' failed: {detail}")


class ApplyRunningError(GluuClusterError):
    pass


class DistributionError(GluuClusterError):
    """A server distribution (the OpenDJ zip) cannot be fetched or fails its checksum."""


class LabError(GluuClusterError):
    pass
