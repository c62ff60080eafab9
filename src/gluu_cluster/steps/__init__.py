"""The steps of ``apply``, in the order they run."""

from __future__ import annotations

from ..inventory import Inventory
from ..plan import Step
from .certs import cert_steps
from .filesync import filesync_steps
from .hosts import HostsFileStep
from .ldap_access import LDAPAdminAccessStep
from .ldap_common import LDAPRun
from .ldap_general import LDAPGeneralStep
from .ldap_provider import LDAPProviderStep
from .ldap_replicas import LDAPConsumersStep, LDAPInitStep
from .ldap_schema import LDAPSchemaStep
from .ldap_tls import LDAPTLSStep


def default_steps(inventory: Inventory) -> list[Step]:
    """Checks and node preparation, the cluster CA (LDAP TLS) and certificate sets, then
    LDAP replication: general config, providers, initialised replicas, consumers; then
    file sync: csync2 installed, configured, running, first sync from the primary."""
    if inventory.ldap is None:
        return [HostsFileStep(), *cert_steps(inventory), *filesync_steps(inventory)]
    run = LDAPRun()
    return [
        LDAPAdminAccessStep(),
        HostsFileStep(),
        LDAPSchemaStep(),
        LDAPTLSStep(run),
        *cert_steps(inventory),
        LDAPGeneralStep(run),
        LDAPProviderStep(run),
        LDAPInitStep(run),
        LDAPConsumersStep(run),
        *filesync_steps(inventory),
    ]
