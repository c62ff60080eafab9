"""How the tool reaches nodes: SSH, the local machine, a chroot wrapper, and a fake."""

from .base import CommandResult, Transport
from .chroot import ChrootTransport, in_container
from .local import LocalTransport
from .ssh import SSHTarget, SSHTransport

__all__ = [
    "ChrootTransport",
    "CommandResult",
    "LocalTransport",
    "SSHTarget",
    "SSHTransport",
    "Transport",
    "in_container",
]
