"""The lab's OpenDJ install helpers (pure) and the pinned distribution's check."""

from __future__ import annotations

from pathlib import Path

import pytest

from gluu_cluster.errors import DistributionError
from gluu_cluster.lab import opendj
from gluu_cluster.ldap.opendj import dist


def test_every_listener_moves_to_the_nodes_address_and_heaps_are_set() -> None:
    config = ("dn: cn=LDAP Connection Handler,cn=Connection Handlers,cn=config\n"
              "ds-cfg-listen-address: 0.0.0.0\n\n"
              "dn: cn=Administration Connector,cn=config\nds-cfg-listen-address: 0.0.0.0\n")
    moved = opendj.listening_on(config, "127.0.20.12")
    assert "0.0.0.0" not in moved and moved.count("ds-cfg-listen-address: 127.0.20.12") == 2
    props = opendj.java_properties("default.java-args=-client\nstart-ds.java-args=-server\nx=1")
    assert "start-ds.java-args=-server -Xmx384m -XX:+UseSerialGC" in props
    assert "default.java-args=-client -XX:TieredStopAtLevel=1" in props and "x=1" in props


def test_the_lab_schema_is_an_opendj_schema_file() -> None:
    text = opendj.schema_file()
    assert text.startswith("dn: cn=schema\nobjectClass: top\n")
    assert "NAME 'gluuPerson' SUP top AUXILIARY" in text
    assert all(line.endswith("X-ORIGIN 'gluu-cluster lab' )")
               for line in text.splitlines() if line.startswith(("attributeTypes", "objectClasses")))


def test_setup_takes_the_root_password_from_a_file_only() -> None:
    node = opendj.LabNode("node2", "127.0.20.12", Path("/tmp/x"))
    argv = opendj.setup_argv(node, "/tmp/pw", "/tmp/tree.ldif")
    assert argv[argv.index("--rootUserPasswordFile") + 1] == "/tmp/pw"
    assert "--rootUserPassword" not in argv and "-w" not in argv


def test_a_cached_zip_with_another_checksum_is_fetched_again_and_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / dist.zip_path(tmp_path).name).write_bytes(b"not the zip")
    fetched: list[list[str]] = []

    def fake_run(command: list[str], **_kwargs: object) -> object:
        fetched.append(command)
        out = Path(command[-1].split("=", 1)[1]) / dist.zip_path(tmp_path).name
        out.write_bytes(b"tampered")
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    monkeypatch.setattr(dist.subprocess, "run", fake_run)
    with pytest.raises(DistributionError, match="not the published"):
        dist.ensure_zip(tmp_path)
    assert fetched and fetched[0][:2] == ["mvn", "-B"]
