"""The lab's standalone slapd: cn=config, a small Gluu-style schema and a Gluu-like tree."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

from ..ldap.openldap.desired import ROOT_PEER
from ..ldap.openldap.directory import ldapi_url
from ..ldap.openldap.passwords import ssha

SUFFIX = "o=gluu"
ADMIN_DN = "cn=directory manager,o=gluu"
CONFIG_DIR = "/etc/openldap/slapd.d"
DATA_DIR = "/opt/gluu/data/main_db"
LDAPI_SOCKET = "/run/slapd/ldapi"
PID_FILE = "/run/slapd/slapd.pid"
LDAPS_PORT = 1636
MAP_SIZE = 2 * 1024**3  # room for the seed's 36,000 entries and many more

_GLUU_OID = "1.3.6.1.4.1.48710.1"  # Gluu's arc; a reduced lab schema, not Gluu's full one


def schema_definitions() -> tuple[list[str], list[str]]:
    """(attribute types, object classes) of the lab's reduced Gluu schema, in RFC 4512
    form: slapd takes them in cn=config, OpenDJ in a schema file."""
    string = "1.3.6.1.4.1.1466.115.121.1.15"
    attrs = [
        ("1", "inum", "SINGLE-VALUE"),
        ("2", "gluuStatus", "SINGLE-VALUE"),
        ("3", "oxAuthClientSecret", "SINGLE-VALUE"),
        ("4", "oxAuthRedirectURI", ""),
        ("5", "oxScopeType", "SINGLE-VALUE"),
        ("6", "oxCreationTimestamp", "SINGLE-VALUE"),
        ("7", "oxIDPAuthentication", ""),
        ("8", "oxCacheConfiguration", "SINGLE-VALUE"),
        ("9", "oxTrustCacheRefreshServerIpAddress", "SINGLE-VALUE"),
        ("10", "gluuVdsCacheRefreshEnabled", "SINGLE-VALUE"),
    ]
    types = [
        f"( {_GLUU_OID}.3.{num} NAME '{name}' EQUALITY caseIgnoreMatch "
        f"SUBSTR caseIgnoreSubstringsMatch SYNTAX {string} {extra} )".replace("  )", " )")
        for num, name, extra in attrs
    ]
    classes = [
        ("1", "gluuPerson", "AUXILIARY", "", "inum $ gluuStatus $ oxCreationTimestamp"),
        ("2", "gluuGroup", "STRUCTURAL", "inum $ displayName", "member $ gluuStatus $ description"),
        ("3", "oxAuthClient", "STRUCTURAL", "inum $ displayName",
         "oxAuthClientSecret $ oxAuthRedirectURI $ description"),
        ("4", "oxAuthCustomScope", "STRUCTURAL", "inum $ displayName", "oxScopeType $ description"),
        ("5", "gluuConfiguration", "STRUCTURAL", "ou",
         "oxIDPAuthentication $ oxCacheConfiguration $ oxTrustCacheRefreshServerIpAddress $ "
         "gluuVdsCacheRefreshEnabled $ description"),
    ]
    objects = [
        f"( {_GLUU_OID}.4.{num} NAME '{name}' SUP top {kind} "
        + (f"MUST ( {must} ) " if must else "") + f"MAY ( {may} ) )"
        for num, name, kind, must, may in classes
    ]
    return types, objects


def _gluu_schema() -> str:
    types, objects = schema_definitions()
    return "\n".join(["dn: cn=gluu,cn=schema,cn=config", "objectClass: olcSchemaConfig",
                      "cn: gluu", *(f"olcAttributeTypes: {t}" for t in types),
                      *(f"olcObjectClasses: {o}" for o in objects)])


def config_ldif(admin_password: str) -> str:
    """cn=config for a standalone Gluu-like slapd; the admin password only as {SSHA}."""
    return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {PID_FILE}
olcArgsFile: /run/slapd/slapd.args
olcLogLevel: none
olcTLSCertificateFile: /etc/certs/openldap.crt
olcTLSCertificateKeyFile: /etc/certs/openldap.key

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: {{0}}back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/nis.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif

{_gluu_schema()}

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: 500

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcRootDN: {ROOT_PEER}
olcAccess: {{0}}to * by dn.exact={ROOT_PEER} manage by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcDbDirectory: {DATA_DIR}
olcSuffix: {SUFFIX}
olcRootDN: {ADMIN_DN}
olcRootPW: {ssha(admin_password)}
olcDbMaxSize: {MAP_SIZE}
olcDbIndex: objectClass eq
olcDbIndex: inum eq
olcDbIndex: uid eq
olcDbIndex: mail eq
olcLimits: {{0}}dn.exact="{ROOT_PEER}" size=unlimited time=unlimited
olcAccess: {{0}}to * by dn.exact={ROOT_PEER} manage by * break
olcAccess: {{1}}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {{2}}to * by users read by * none

"""


def entry(dn: str, attrs: list[tuple[str, str]]) -> str:
    return "\n".join([f"dn: {dn}", *(f"{k}: {v}" for k, v in attrs)]) + "\n\n"


IDP_AUTHENTICATION = (
    '{"type":"auth","name":null,"level":0,"priority":1,"enabled":false,"version":0,'
    '"config":{"configId":"auth_ldap_server","servers":["localhost:1636"],'
    '"maxConnections":1000,"bindDN":"cn=directory manager,o=gluu","useSSL":true,'
    '"baseDNs":["ou=people,o=gluu"],"primaryKey":"uid","localPrimaryKey":"uid",'
    '"useAnonymousBind":false,"enabled":false}}')
CACHE_CONFIGURATION = (
    '{"cacheProviderType":"IN_MEMORY","inMemoryConfiguration":{"defaultPutExpiration":60},'
    '"redisConfiguration":{"servers":"localhost:6379","defaultPutExpiration":60,'
    '"redisProviderType":"STANDALONE","useSSL":false,"sslTrustStoreFilePath":""}}')


def base_entries() -> Iterator[str]:
    """The tree every node has after its own install: same DNs, its own entryUUIDs."""
    yield entry(SUFFIX, [("objectClass", "top"), ("objectClass", "organization"), ("o", "gluu")])
    for ou in ("people", "groups", "clients", "scopes"):
        yield entry(
            f"ou={ou},{SUFFIX}",
            [("objectClass", "top"), ("objectClass", "organizationalUnit"), ("ou", ou)],
        )
    yield entry(
        f"inum=60B7,ou=groups,{SUFFIX}",
        [("objectClass", "top"), ("objectClass", "gluuGroup"), ("inum", "60B7"),
         ("displayName", "Gluu Manager Group"), ("gluuStatus", "active"),
         ("member", f"inum=0000-admin,ou=people,{SUFFIX}")],
    )
    yield entry(
        f"inum=0008-0C5A,ou=clients,{SUFFIX}",
        [("objectClass", "top"), ("objectClass", "oxAuthClient"), ("inum", "0008-0C5A"),
         ("displayName", "oxTrust Admin GUI"),
         ("oxAuthRedirectURI", "https://localhost/identity/authentication/authcode")],
    )
    # Gluu 4's configuration entry as its setup writes it: one node's view of the world.
    yield entry(
        f"ou=configuration,{SUFFIX}",
        [("objectClass", "top"), ("objectClass", "gluuConfiguration"), ("ou", "configuration"),
         ("oxIDPAuthentication", IDP_AUTHENTICATION), ("oxCacheConfiguration", CACHE_CONFIGURATION),
         ("oxTrustCacheRefreshServerIpAddress", "255.255.255.255"),
         ("gluuVdsCacheRefreshEnabled", "false")],
    )
    for num, scope in enumerate(("openid", "profile", "email", "address"), start=1):
        inum = f"F0C4.{num:04d}"
        yield entry(
            f"inum={inum},ou=scopes,{SUFFIX}",
            [("objectClass", "top"), ("objectClass", "oxAuthCustomScope"), ("inum", inum),
             ("displayName", scope), ("oxScopeType", "openid")],
        )


def user_entries(count: int) -> Iterator[str]:
    """Gluu-style people with {SSHA} passwords; inums are stable per index."""
    yield entry(
        f"inum=0000-admin,ou=people,{SUFFIX}",
        [("objectClass", "top"), ("objectClass", "inetOrgPerson"), ("objectClass", "gluuPerson"),
         ("inum", "0000-admin"), ("uid", "admin"), ("cn", "Default Admin User"),
         ("sn", "User"), ("gluuStatus", "active"), ("userPassword", ssha(os.urandom(12).hex()))],
    )
    for index in range(1, count + 1):
        inum = hashlib.sha1(f"user-{index}".encode()).hexdigest()[:16].upper()
        uid = f"user{index:05d}"
        yield entry(
            f"inum={inum},ou=people,{SUFFIX}",
            [("objectClass", "top"), ("objectClass", "inetOrgPerson"),
             ("objectClass", "gluuPerson"), ("inum", inum), ("uid", uid),
             ("cn", f"Lab User {index}"), ("sn", f"User{index}"), ("givenName", "Lab"),
             ("mail", f"{uid}@lab.example"), ("gluuStatus", "active"),
             ("oxCreationTimestamp", "20261124000000Z"),
             ("userPassword", ssha(f"{uid}-{index}"))],
        )


def solserver_script() -> str:
    """Stand-in for Gluu's /etc/init.d/solserver: slapd by PID file, no systemd."""
    return f"""#!/bin/sh
# slapd control for a node without systemd; settings in /etc/default/solserver.
. /etc/default/solserver
PIDFILE={PID_FILE}
# A killed slapd may linger as a zombie until reaped: that is not running.
running() {{
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE")
  [ -r "/proc/$pid/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"
}}
case "$1" in
  start)
    mkdir -p /run/slapd
    if running; then echo "slapd is already running"; exit 0; fi
    exec /usr/sbin/slapd -F {CONFIG_DIR} -h "$SLAPD_URLS" $SLAPD_OPTIONS
    ;;
  stop)
    if running; then
      pid=$(cat "$PIDFILE"); kill "$pid"
      i=0; while running && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
      if running; then echo "slapd did not stop" >&2; exit 1; fi
    fi
    rm -f "$PIDFILE"
    ;;
  status)
    if running; then echo "slapd is running"; else echo "slapd is stopped"; exit 3; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
"""


def solserver_defaults(address: str) -> str:
    return (
        "# Read by /etc/init.d/solserver\n"
        f'SLAPD_URLS="ldaps://{address}:{LDAPS_PORT}/ {ldapi_url(LDAPI_SOCKET)}"\n'
        'SLAPD_OPTIONS=""\n'
    )
