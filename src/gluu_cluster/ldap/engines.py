"""The LDAP engines there are, by the name ``ldap.engine`` gives them in the inventory.

Apart from engine.py (the interface every engine implements), so an engine's folder can
import the interface without importing the registry that imports it.
"""

from __future__ import annotations

from ..inventory import LDAPSettings
from .engine import LDAPEngine
from .opendj import OpenDJEngine
from .openldap import OpenLDAPEngine

ENGINES: dict[str, type[LDAPEngine]] = {e.name: e for e in (OpenLDAPEngine, OpenDJEngine)}


def engine_for(settings: LDAPSettings) -> LDAPEngine:
    """The engine the inventory names (``ldap.engine``)."""
    return ENGINES[settings.engine]()
