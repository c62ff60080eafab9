"""The steps of ``apply``, in the order they run."""

from __future__ import annotations

from ..plan import Step
from .hosts import HostsFileStep


def default_steps() -> list[Step]:
    """Prepare nodes first; later capabilities (LDAP, file sync, certificates) append here."""
    return [HostsFileStep()]
