"""The steps of ``apply``, in the order they run (the step contract is in plan.py)."""

from __future__ import annotations

from .apps.steps import GluuLDAPConfigStep, LDAPFailoverStep
from .balancer.steps import balancer_steps
from .boot.steps import BootServicesStep
from .cache.steps import cache_steps
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
    sync from the primary; the LDAP server and gluu-csync2d enabled at boot; last, what
    stands in front of the nodes (the shared cache, the load balancer)."""
    if inventory.ldap is None:
        return [HostsFileStep(), *cert_steps(inventory), *filesync_steps(inventory),
                *boot_steps(inventory), *front_steps(inventory)]
    engine = engine_for(inventory.ldap)
    before_certs, replication = engine.steps(inventory)
    return [
        LDAPAdminAccessStep(),
        HostsFileStep(),
        *before_certs,
        *cert_steps(inventory),
        *replication,
        LDAPFailoverStep(),
        *filesync_steps(inventory),
        *boot_steps(inventory),
        *front_steps(inventory),
    ]


def boot_steps(inventory: Inventory) -> list[Step]:
    return [BootServicesStep()] if inventory.file_sync.groups or inventory.ldap else []


def front_steps(inventory: Inventory) -> list[Step]:
    """The shared cache and the load balancer: each on its own host (or a node)."""
    steps: list[Step] = []
    if inventory.cache.type == "redis":
        steps += cache_steps()
    if inventory.ldap is not None:  # after the cache: the configuration points at it
        steps.append(GluuLDAPConfigStep())
    if inventory.load_balancer is not None:
        steps += balancer_steps()
    return steps
