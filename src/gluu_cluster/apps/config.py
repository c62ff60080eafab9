"""The Gluu configuration kept in LDAP (replicated, so written once, on the primary):

- ``oxIDPAuthentication``: the LDAP servers Gluu authenticates against (its
  ``auth_ldap_server`` source) name every node, not only ``localhost``;
- ``oxCacheConfiguration``: the shared Redis over TLS when the inventory has a cache (the
  password in Gluu's own encoding, with the node's salt);
- ``oxTrustCacheRefreshServerIpAddress``: cache refresh runs on one node only.

The entry is Gluu 4's ``ou=configuration`` (objectClass gluuConfiguration) or Gluu 3's
appliance (gluuAppliance). Pure functions: the wanted values from the current ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..cache.render import cache_host
from ..inventory import Inventory
from .encode import decode, encode

IDP = "oxIDPAuthentication"
CACHE = "oxCacheConfiguration"
REFRESH = "oxTrustCacheRefreshServerIpAddress"
ATTRS = (IDP, CACHE, REFRESH)
FILTER = "(|(objectClass=gluuConfiguration)(objectClass=gluuAppliance))"


@dataclass(frozen=True)
class GluuConfig:
    dn: str
    values: dict[str, tuple[str, ...]]  # attribute (as ATTRS spells it) -> its values


def servers(inventory: Inventory) -> list[str]:
    """Every node's LDAP server, the primary first (one list: the entry is replicated)."""
    assert inventory.ldap is not None
    primary = inventory.primary_node.name
    names = [primary, *(n.name for n in inventory.nodes if n.name != primary)]
    return [f"{name}:{inventory.ldap.port}" for name in names]


def _idp(value: str, wanted: list[str]) -> str:
    try:
        data = json.loads(value)
    except ValueError:
        return value  # not Gluu's JSON: left as it is
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict) or config.get("configId") != "auth_ldap_server":
        return value
    if config.get("servers") == wanted:
        return value
    config["servers"] = wanted
    return json.dumps(data, separators=(",", ":"))


def _cache(value: str, inventory: Inventory, password: str, salt: str | None) -> str:
    try:
        data = json.loads(value)
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    host = cache_host(inventory)
    redis = data.get("redisConfiguration")
    redis = dict(redis) if isinstance(redis, dict) else {}
    wanted = {"redisProviderType": "STANDALONE",
              "servers": f"{host.address}:{inventory.cache.port}", "useSSL": True}
    current = redis.get("password")
    password_ok = (salt is not None and isinstance(current, str)
                   and decode(salt, current) == password)
    if data.get("cacheProviderType") == "REDIS" and password_ok and all(
            redis.get(k) == v for k, v in wanted.items()):
        return value
    redis |= wanted
    if not password_ok:
        assert salt is not None  # checked by the caller: no salt, no change
        redis["password"] = encode(salt, password)
    data["cacheProviderType"] = "REDIS"
    data["redisConfiguration"] = redis
    return json.dumps(data, separators=(",", ":"))


def wanted_values(found: GluuConfig, inventory: Inventory, cache_password: str | None,
                  salt: str | None) -> dict[str, tuple[str, ...]]:
    """The attributes that must change, with all their new values (replace)."""
    changes: dict[str, tuple[str, ...]] = {}
    idp = found.values.get(IDP, ())
    new_idp = tuple(_idp(v, servers(inventory)) for v in idp)
    if new_idp != idp:
        changes[IDP] = new_idp
    if cache_password is not None and salt is not None:
        old = found.values.get(CACHE, ("{}",))[:1] or ("{}",)
        new = _cache(old[0], inventory, cache_password, salt)
        if new != old[0]:
            changes[CACHE] = (new,)
    refresh = inventory.cache_refresh_node.address
    if found.values.get(REFRESH, ()) != (refresh,):
        changes[REFRESH] = (refresh,)
    return changes
