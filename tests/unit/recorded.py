"""The labs recorded by fixtures/record.py as clusters of fake hosts (unit tests only)."""

from __future__ import annotations

import shutil
from pathlib import Path

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.facts.script import render_section
from gluu_cluster.inventory import load_inventory
from gluu_cluster.transport.chroot import ChrootTransport
from gluu_cluster.transport.fake import FakeTransport
from tests.unit.fixtures.record import ADMIN_PASSWORD, REPLICATION_PASSWORD

FIXTURES = Path(__file__).parent / "fixtures"


def recorded_cluster(name: str, tmp_path: Path) -> ClusterConnection:
    """The recorded lab as a cluster of fake nodes (and hosts in front, when it had them)
    answering with the recorded facts."""
    shutil.copytree(FIXTURES / name, tmp_path / name)
    base = tmp_path / name
    secrets = base / "secrets"
    secrets.mkdir()
    values = {"ldap-admin-password": ADMIN_PASSWORD,
              "ldap-replication-password": REPLICATION_PASSWORD,
              "truststore-password": (base / "truststore-password").read_text()}
    if (base / "cache-password").exists():
        values["cache-password"] = (base / "cache-password").read_text()
    for file, value in values.items():
        (secrets / file).write_text(value)
        (secrets / file).chmod(0o600)
    (base / "pki").mkdir(exist_ok=True)  # git keeps no empty folder: the fresh lab had no CA yet
    (base / "pki").chmod(0o700)
    for key in (base / "pki").iterdir():  # a checkout gives every file 0644: keys are 0600
        key.chmod(0o600)
    cluster = ClusterConnection(load_inventory(base / "cluster.yaml"))
    for handle in [*cluster.nodes, *cluster.services]:
        fake = FakeTransport(node=handle.name)
        fake.facts = {f.name[len(handle.name) + 1:-4]: f.read_bytes()
                      for f in base.glob(f"{handle.name}-*.out")}
        bound = render_section("bind", 0, b"dn:cn=directory manager,o=gluu\n")
        fake.facts |= {"ldap-admin-bind": bound, "ldap-replicator-bind": bound}
        handle.host = fake
        handle.container = ChrootTransport(fake, handle.container_root)
    return cluster
