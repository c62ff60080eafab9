"""The fact scripts' parsers, on output recorded from the real engines of a converged lab
node (fixtures/record.py), and on the ways a run can end short."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from gluu_cluster.errors import LDAPCommandError, NodeCheckError
from gluu_cluster.facts.script import MARK, MISSING, parse_sections
from gluu_cluster.filesync import facts as filesync_facts
from gluu_cluster.inventory import load_inventory
from gluu_cluster.ldap.openldap import facts as ldap_facts
from gluu_cluster.pki import facts as pki_facts

FIXTURES = Path(__file__).parent / "fixtures"


def recorded(area: str) -> bytes:
    return (FIXTURES / "converged" / f"node2-{area}.out").read_bytes()


def line(name: str, code: int, out: bytes = b"", err: bytes = b"") -> bytes:
    return (f"{MARK} {name} {code} ".encode() + base64.b64encode(out) + b" "
            + base64.b64encode(err) + b"\n")


def test_sections_round_trip_binary_and_ignore_other_lines() -> None:
    data = b"noise\n" + line("a", 0, b"\x00\x01tar\n") + line("b.x", 3, err=b"gone") + b"tail"
    sections = parse_sections(data)
    assert sections["a"].stdout == b"\x00\x01tar\n" and sections["a"].ok
    assert sections["b.x"].exit_code == 3 and sections["b.x"].first_error_line() == "gone"
    assert sections.named("b") == [("x", sections["b.x"])]
    assert sections["never-printed"] is MISSING and not MISSING.ok


def test_a_malformed_section_line_is_ignored() -> None:
    assert len(parse_sections(f"{MARK} a x y z\n{MARK} b 0 !!! AA==\n".encode())) == 0


def test_ldap_facts_of_a_converged_provider() -> None:
    facts = ldap_facts.parse_facts("node2", parse_sections(recorded("ldap")))
    assert facts.server_id == 2 and facts.entries == 1014 and facts.replicator_exists
    assert [c.id for c in facts.consumers] == ["001", "003"]
    assert all(c.connected and c.phase == "Persist" for c in facts.consumers)
    assert len(facts.context_csns) == 3
    assert {c.split("#")[2] for c in facts.context_csns} == {"001", "002", "003"}
    db = facts.database("o=gluu")
    assert db is not None and db.attrs.first("olcMultiProvider").upper() == "TRUE"
    assert len(db.values("olcSyncrepl")) == 2 and db.overlay("syncprov") is not None
    assert "syncprov" in " ".join(facts.modules) and facts.monitor is not None


def test_ldap_facts_when_slapd_does_not_answer() -> None:
    down = line("config", 255, err=b"ldap_sasl_interactive_bind: Can't contact LDAP server (-1)")
    with pytest.raises(LDAPCommandError, match="Can't contact LDAP server"):
        ldap_facts.parse_facts("node2", parse_sections(down))


def test_ldap_facts_of_a_node_without_suffix_or_monitor() -> None:
    config = parse_sections(recorded("ldap"))["config"].stdout
    data = (line("config", 0, config) + line("suffix", 32) + line("replicator", 32)
            + line("entries", 32, b"0\n") + line("consumers", 32))
    facts = ldap_facts.parse_facts("node9", parse_sections(data))
    assert facts.suffix_uuid is None and facts.context_csns == () and facts.entries == 0
    assert facts.consumers == () and not facts.replicator_exists


def test_filesync_facts_of_a_converged_node() -> None:
    facts = filesync_facts.parse_facts("node2", parse_sections(recorded("filesync")), 30, now=0)
    assert facts.daemon_pid is not None and facts.initialised and facts.last_ok is not None
    assert facts.dirty == () and facts.missing_tools == () and facts.package_manager == "apt-get"
    assert facts.test is not None and facts.test.in_sync
    assert sorted(facts.pins) == ["node1", "node3"]
    assert facts.certificate is not None and b"BEGIN CERTIFICATE" in facts.certificate
    cfg = facts.managed["/etc/csync2/csync2.cfg"]
    assert cfg is not None and cfg.mode == 0o644 and len(cfg.sha256) == 64


def test_filesync_facts_before_csync2_is_installed() -> None:
    data = (line("daemon", 3) + line("initialised", 3) + line("last-ok", 3)
            + line("conflicts", 3) + line("missing", 0, b"csync2\ninotifywait\nsqlite3\n")
            + line("manager", 0, b"apt-get\n") + line("cert", 3) + line("pins", 3)
            + line("file./etc/csync2/csync2.cfg", 3))
    facts = filesync_facts.parse_facts("n", parse_sections(data), 30)
    assert facts.missing_tools == ("csync2", "inotifywait", "sqlite3")
    assert facts.daemon_pid is None and not facts.initialised and facts.dirty is None
    assert facts.test is None and facts.managed == {"/etc/csync2/csync2.cfg": None}


def test_a_csync2_timeout_in_the_fact_script_is_read_as_one() -> None:
    data = (line("dirty", 2) + line("test.n2", 2, err=b"@@elapsed-ms 40\n")
            + line("test.n3", 124, err=b"@@elapsed-ms 30012\n"))
    facts = filesync_facts.parse_facts("n", parse_sections(data), 30, peers=2)
    assert facts.test is not None and facts.test.timed_out and not facts.test.ok
    assert not facts.test.in_sync
    quick = filesync_facts.parse_facts("n", parse_sections(
        line("dirty", 2) + line("test.n2", 137, err=b"@@elapsed-ms 800\n")), 30, peers=1)
    assert quick.test is not None and quick.test.killed and not quick.test.timed_out


def test_each_peer_tested_must_be_in_sync_and_peers_found_down_are_not_tested() -> None:
    both = line("dirty", 2) + line("test.n2", 2) + line("test.n3", 2)
    facts = filesync_facts.parse_facts("n", parse_sections(both), 30, peers=2)
    assert facts.test is not None and facts.test.in_sync and facts.test.ok
    one_differs = line("dirty", 2) + line("test.n2", 2) + line("test.n3", 0, b"X file\n")
    facts = filesync_facts.parse_facts("n", parse_sections(one_differs), 30, peers=2)
    assert facts.test is not None and facts.test.ok and not facts.test.in_sync
    # Every peer down: nothing was asked, so nothing is known (not "in sync").
    assert filesync_facts.parse_facts("n", parse_sections(line("dirty", 2)), 30,
                                      peers=2).test is None
    alone = filesync_facts.parse_facts("n", parse_sections(line("dirty", 2)), 30, peers=0)
    assert alone.test is not None and alone.test.in_sync


def test_the_fact_script_tests_only_the_peers_not_found_down(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GLUU_LDAP_ADMIN_PASSWORD", "GLUU_LDAP_REPLICATION_PASSWORD",
                 "GLUU_TRUSTSTORE_PASSWORD"):
        monkeypatch.setenv(name, "x")
    inventory = load_inventory(Path(__file__).parents[2] / "examples" / "seed-two-nodes.yaml")
    node1 = inventory.nodes[0].name
    handle = type("Handle", (), {"name": node1})()
    every = filesync_facts.FILESYNC_FACTS.args(handle, inventory, frozenset())  # type: ignore[arg-type]
    assert every[4] == inventory.nodes[1].name
    down = frozenset({inventory.nodes[1].name})
    assert filesync_facts.FILESYNC_FACTS.args(handle, inventory, down)[4] == ""  # type: ignore[arg-type]


def test_the_fact_script_checks_the_tools_the_steps_need() -> None:
    listed = re.search(r"for t in ([^;]+);", filesync_facts.FACT_SCRIPT)
    assert listed is not None and tuple(listed.group(1).split()) == filesync_facts.TOOLS


def lab_inventory(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "pw").write_text("changeit\n")
    (tmp_path / "pw").chmod(0o600)
    (tmp_path / "cluster.yaml").write_text(f"""\
cluster: lab
container_root: /opt/gluu-server-lab
nodes:
  - {{name: node1, address: 127.0.30.11}}
  - {{name: node2, address: 127.0.30.12}}
certificates:
  sets:
    - name: gluu
      directory: /etc/certs
      masks: ["httpd.*", "asimba.*", "asimbaIDP.*", "shibIDP.*"]
      truststore: {{path: /etc/ssl/certs/java/cacerts, password: {{file: {tmp_path / 'pw'}}}}}
      keystores:
        - file: shibIDP.jks
          password_from: {{file: /install/community-edition-setup/setup.properties.last, key: shibJksPass}}
""")
    return load_inventory(tmp_path / "cluster.yaml")


def test_pki_facts_of_a_lab_node(tmp_path: Path) -> None:
    inventory = lab_inventory(tmp_path)
    sets = inventory.certificates.sets
    facts = pki_facts.parse_facts("node2", sets, parse_sections(recorded("pki")))
    files = facts.set_files(sets[0])
    assert {"httpd.crt", "httpd.key", "shibIDP.jks"} <= set(files)
    assert files["httpd.key"].mode == 0o600
    assert facts.files["/etc/ssl/certs/java/cacerts"] is not None
    props = facts.files["/install/community-edition-setup/setup.properties.last"]
    assert props is not None and b"shibJksPass" in props


def test_pki_facts_missing_directory_and_unreadable_file(tmp_path: Path) -> None:
    sets = lab_inventory(tmp_path).certificates.sets
    facts = pki_facts.parse_facts("n", sets, parse_sections(
        line("set.gluu", 3) + line("file./etc/ssl/certs/java/cacerts", 3)))
    assert facts.set_files(sets[0]) == {} and facts.files["/etc/ssl/certs/java/cacerts"] is None
    with pytest.raises(NodeCheckError, match="cannot read /etc/x: cat: /etc/x: Permission denied"):
        pki_facts.parse_facts("n", sets, parse_sections(
            line("set.gluu", 3) + line("file./etc/x", 1, err=b"cat: /etc/x: Permission denied")))


def test_pki_fact_arguments_name_each_side_file_once(tmp_path: Path) -> None:
    sets = lab_inventory(tmp_path).certificates.sets
    args = pki_facts.fact_args([sets[0], sets[0]])
    assert args.count("file") == 2 and args[:3] == ["set", "gluu", "/etc/certs"]
