"""The Gluu file layout inside a lab node's container root, with sample content."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..apps.encode import SALT_FILE
from ..secrets import write_secret_file
from .keys import self_signed
from .layout import LabNode
from .proc import run

CERT_COMPONENTS = ("httpd", "asimba", "asimbaIDP", "shibIDP", "openldap")
KEYSTORE_COMPONENTS = {"asimbaIDP": "asimbaJksPass", "shibIDP": "shibJksPass"}
# Gluu's key stores are JKS; the lab makes one real JKS and keeps asimbaIDP as PKCS12
# content under the .jks name (Java reads both), so both paths are exercised.
REAL_JKS = ("shibIDP",)
TRUSTSTORE = "/etc/ssl/certs/java/cacerts"
TOMCAT_CONF = "/opt/tomcat/conf"
SYNCED_DIRS = ("/opt/idp/conf", "/opt/idp/metadata", "/opt/idp/ssl", TOMCAT_CONF)
TOMCAT_SCRIPT = "/etc/init.d/tomcat"
# Each "restart" of the lab's stand-in tomcat leaves a line here: the tests' marker.
TOMCAT_RESTARTS = "/var/log/tomcat-restarts.log"


@dataclass(frozen=True)
class InstallSecrets:
    """What a shared setup.properties.last gives every node: the same passwords."""

    ldap_password: str
    shib_jks_password: str
    asimba_jks_password: str
    org_inum: str
    encode_salt: str  # 24 characters: the key of the passwords Gluu stores encoded


def write_file(root: Path, path: str, text: str | bytes, mode: int = 0o644) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(target, mode)


def setup_properties(node: LabNode, secrets: InstallSecrets) -> str:
    return "\n".join(
        [
            "#Gluu Server CE setup properties (lab)",
            f"hostname={node.name}",
            f"ip={node.address}",
            "orgName=Gluu Lab",
            "countryCode=US",
            "state=TX",
            "city=Austin",
            "admin_email=admin@lab.example",
            f"inumOrg={secrets.org_inum}",
            f"encode_salt={secrets.encode_salt}",
            f"ldapPass={secrets.ldap_password}",
            f"shibJksPass={secrets.shib_jks_password}",
            f"asimbaJksPass={secrets.asimba_jks_password}",
            "installSaml=True",
            "installAsimba=True",
            "installOxAuth=True",
            "installOxTrust=True",
            "ldap_type=openldap",
            "oxVersion=3.1.6.Final",
            "",
        ]
    )


def write_sample_files(node: LabNode) -> None:
    root = node.root
    write_file(root, "/opt/idp/conf/idp.properties",
           f"idp.entityID=https://{node.name}/idp/shibboleth\nidp.scope={node.name}\n")
    write_file(root, "/opt/idp/conf/attribute-resolver.xml",
           '<?xml version="1.0"?>\n<AttributeResolver>\n  <!-- lab sample -->\n</AttributeResolver>\n')
    write_file(root, "/opt/idp/conf/relying-party.xml",
           '<?xml version="1.0"?>\n<RelyingPartyGroup>\n</RelyingPartyGroup>\n')
    write_file(root, "/opt/idp/metadata/idp-metadata.xml",
           f'<?xml version="1.0"?>\n<EntityDescriptor entityID="https://{node.name}/idp/shibboleth"/>\n')
    write_file(root, "/opt/idp/ssl/README", "TLS material of the IdP (lab sample)\n")
    write_file(root, f"{TOMCAT_CONF}/server.xml",
           '<?xml version="1.0"?>\n<Server port="8005" shutdown="SHUTDOWN">\n</Server>\n')
    write_file(root, f"{TOMCAT_CONF}/context.xml", '<?xml version="1.0"?>\n<Context/>\n')
    write_file(root, TOMCAT_SCRIPT,
           "#!/bin/sh\n# Stand-in for Gluu's tomcat init script: records each call.\n"
           f'echo "$(date +%s.%N) $*" >> {TOMCAT_RESTARTS}\n', mode=0o755)
    # Files the seed's `exclude *~ .*` must keep out of sync.
    write_file(root, "/opt/idp/conf/.idp.properties.swp", "editor swap file\n")
    write_file(root, "/opt/idp/conf/idp.properties~", "editor backup\n")


def write_install_files(node: LabNode, secrets: InstallSecrets) -> None:
    write_file(node.root, "/install/community-edition-setup/setup.properties.last",
           setup_properties(node, secrets), mode=0o600)
    write_file(node.root, SALT_FILE, f"encodeSalt = {secrets.encode_salt}\n", mode=0o600)


def write_certificates(node: LabNode, secrets: InstallSecrets, work: Path) -> None:
    """Per-node keys, certificates and key stores in /etc/certs, then the Java truststore."""
    passwords = {
        "shibJksPass": secrets.shib_jks_password,
        "asimbaJksPass": secrets.asimba_jks_password,
    }
    for component in CERT_COMPONENTS:
        pair = self_signed(f"{node.name} {component}", node.name, node.address)
        write_file(node.root, f"/etc/certs/{component}.key", pair.key_pem, mode=0o600)
        write_file(node.root, f"/etc/certs/{component}.crt", pair.cert_pem, mode=0o644)
        if component in KEYSTORE_COMPONENTS:
            password = passwords[KEYSTORE_COMPONENTS[component]]
            store = pair.pkcs12(component, password)
            if component in REAL_JKS:
                store = _to_jks(store, password, work / f"{node.name}-{component}")
            write_file(node.root, f"/etc/certs/{component}.jks", store, mode=0o600)
    _import_into_truststore(node, work)


def _to_jks(pkcs12: bytes, password: str, work: Path) -> bytes:
    """A real JKS key store, as Gluu's setup makes with keytool (key password = store's)."""
    work.mkdir(parents=True, exist_ok=True)
    source, target, password_file = work / "in.p12", work / "out.jks", work / "pass"
    source.write_bytes(pkcs12)
    write_secret_file(password_file, password)
    try:
        run(["keytool", "-importkeystore", "-noprompt",
             "-srckeystore", str(source), "-srcstoretype", "PKCS12",
             "-srcstorepass:file", str(password_file),
             "-destkeystore", str(target), "-deststoretype", "JKS",
             "-deststorepass:file", str(password_file)], timeout=120)
        return target.read_bytes()
    finally:
        for path in (source, target, password_file):
            path.unlink(missing_ok=True)


def _import_into_truststore(node: LabNode, work: Path) -> None:
    """As Gluu's setup does: the node's own certificates go into the Java cacerts."""
    store = node.root / TRUSTSTORE.lstrip("/")
    password_file = work / f"{node.name}.storepass"
    # Debian's default cacerts password; passed in a 0600 file, never on the command line.
    write_secret_file(password_file, "changeit")
    try:
        for component in ("httpd", "openldap"):
            run(
                [
                    "keytool", "-importcert", "-noprompt",
                    "-keystore", str(store),
                    "-storepass:file", str(password_file),
                    "-alias", f"{node.name}_{component}",
                    "-file", str(node.root / f"etc/certs/{component}.crt"),
                ],
                timeout=120,
            )
    finally:
        password_file.unlink(missing_ok=True)
