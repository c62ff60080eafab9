"""The steps of ``apply``, in the order they run (the step contract is in plan.py)."""

from __future__ import annotations

from .boot.steps import BootServicesStep
from .filesync.steps import filesync_steps
from .hosts.steps import HostsFileStep
from .inventory import Inventory
from .ldap.access import LDAPAdminAccessStep
from .ldap.engines import engine_for
from .pki.steps import cert_steps
from .plan import Step


def default_steps(inventory: Inventory) -> list[Step]:
    """Checks and node preparation, the engine's TLS (the cluster CA) and certificate
    sets, then the engine's LDAP replication (general config, providers, initialised
    replicas, consumers); then file sync: csync2 installed, configured, running, first
    sync from the primary; last, the LDAP server and gluu-csync2d enabled at boot."""
    if inventory.ldap is None:
        return [HostsFileStep(), *cert_steps(inventory), *filesync_steps(inventory),
                *boot_steps(inventory)]
    engine = engine_for(inventory.ldap)
    before_certs, replication = engine.steps(inventory)
    return [
        LDAPAdminAccessStep(),
        HostsFileStep(),
        *before_certs,
        *cert_steps(inventory),
        *replication,
        *filesync_steps(inventory),
        *boot_steps(inventory),
    ]


def boot_steps(inventory: Inventory) -> list[Step]:
    return [BootServicesStep()] if inventory.file_sync.groups or inventory.ldap else []
