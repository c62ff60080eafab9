"""The steps of ``apply``, in the order they run."""

from __future__ import annotations

from ..plan import Step
from .hosts import HostsFileStep
from .ldap_access import LDAPAdminAccessStep


def default_steps() -> list[Step]:
    """Checks and node preparation first; later capabilities (LDAP replication, file
    sync, certificates) append their steps here."""
    return [LDAPAdminAccessStep(), HostsFileStep()]
