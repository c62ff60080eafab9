"""The steps of ``apply``, in the order they run."""

from __future__ import annotations

from .filesync.steps import filesync_steps
from .hosts.steps import HostsFileStep
from .inventory import Inventory
from .ldap.access import LDAPAdminAccessStep
from .ldap.openldap.common import LDAPRun
from .ldap.openldap.general import LDAPGeneralStep
from .ldap.openldap.provider import LDAPProviderStep
from .ldap.openldap.replicas import LDAPConsumersStep, LDAPInitStep
from .ldap.openldap.schema import LDAPSchemaStep
from .ldap.openldap.tls import LDAPTLSStep
from .pki.steps import cert_steps
from .plan import Step


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
