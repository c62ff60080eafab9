"""The steps of ``apply``, in the order they run."""

from __future__ import annotations

from ..inventory import Inventory
from ..plan import Step
from .hosts import HostsFileStep
from .ldap_access import LDAPAdminAccessStep
from .ldap_common import LDAPRun
from .ldap_general import LDAPGeneralStep
from .ldap_provider import LDAPProviderStep
from .ldap_replicas import LDAPConsumersStep, LDAPInitStep
from .ldap_schema import LDAPSchemaStep
from .ldap_tls import LDAPTLSStep


def default_steps(inventory: Inventory) -> list[Step]:
    """Checks and node preparation, then LDAP replication: TLS from the cluster CA,
    general config, providers, initialised replicas, consumers. File sync and
    certificate sets append their steps here."""
    if inventory.ldap is None:
        return [HostsFileStep()]
    run = LDAPRun()
    return [
        LDAPAdminAccessStep(),
        HostsFileStep(),
        LDAPSchemaStep(),
        LDAPTLSStep(run),
        LDAPGeneralStep(run),
        LDAPProviderStep(run),
        LDAPInitStep(run),
        LDAPConsumersStep(run),
    ]
