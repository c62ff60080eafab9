"""The OpenDJ engine's fact parser, on outputs recorded from a real 2-node OpenDJ 5.0.3
lab (replication enabled and initialised, one write made on node2)."""

from __future__ import annotations

from pathlib import Path

from gluu_cluster.facts.script import Sections, parse_sections, render_section
from gluu_cluster.ldap.agreement import SyncPoint, behind, by_server_id
from gluu_cluster.ldap.opendj.facts import neutral_csn, parse_facts
from gluu_cluster.ldap.opendj.general import batch, missing

RECORDED = Path(__file__).parent / "fixtures" / "opendj"


def sections(node: str) -> Sections:
    out = b""
    for name, file in (("suffix", "suffix.ldif"), ("backends", "backend.ldif"),
                       ("replication", "replication-monitor.ldif"), ("servers", "servers.ldif"),
                       ("admin-cert", "admin-cert.pem")):
        out += render_section(name, 0, (RECORDED / f"{node}-{file}").read_bytes())
    # Recorded on a freshly set up node: the defaults the general step changes.
    out += render_section("general", 0, (RECORDED / "fresh-general.ldif").read_bytes())
    return parse_sections(out)


def test_csns_translate_to_the_neutral_form_in_time_order() -> None:
    # 0x1a2137878a8 ms = 2026-11-25 16:09:52.040 UTC, server ID 0x0900 = 2304, seq 1.
    assert neutral_csn("000001a2137878a8090000000001") == "20261125160952.040000Z#000001#0900#000000"
    assert neutral_csn("000001a2137878a9090000000000")  > neutral_csn("000001a2137878a8090000000001")  # type: ignore[operator]
    assert neutral_csn("not-a-csn") is None


def test_a_replicated_node_reads_its_server_id_entries_state_and_peer() -> None:
    one, two = (parse_facts(n, "o=gluu", sections(n)) for n in ("node1", "node2"))
    assert (one.server_id, two.server_id) == (21588, 2304)
    assert one.entries == two.entries == 113
    assert one.generation_id == two.generation_id == "2174569"
    assert one.connected_to == "127.0.33.11:8989" and one.replication_port == 8989
    assert [link.provider for link in one.links] == ["127.0.33.12:8990"]
    assert [link.provider for link in two.links] == ["127.0.33.11:8989"]
    assert one.configured_peers == two.configured_peers == {"127.0.33.11:8989", "127.0.33.12:8990"}
    assert one.admin_cert is not None and one.admin_cert.startswith("-----BEGIN CERTIFICATE-----")
    assert by_server_id(one.csns) == {2304: "20261125160952.040000Z#000001#0900#000000"}
    points = {f.node: SyncPoint(f.entries or 0, f.csns, f.server_id) for f in (one, two)}
    assert behind(points) == {}


def test_a_standalone_node_has_no_replication_facts() -> None:
    out = (render_section("suffix", 0, b"dn: o=gluu\nentryUUID: e3b8b668-8139-3310-86d7-59ca1f4696fc\n")
           + render_section("backends", 0, (RECORDED / "node1-backend.ldif").read_bytes())
           + render_section("replication", 32, b"", b"No Such Object (32)")
           + render_section("servers", 32, b"", b"No Such Object (32)")
           + render_section("admin-cert", 1, b"", b"")
           + render_section("general", 0, (RECORDED / "fresh-general.ldif").read_bytes()))
    facts = parse_facts("node1", "o=gluu", parse_sections(out))
    assert (facts.server_id, facts.links, facts.csns, facts.generation_id) == (None, (), (), None)
    assert facts.entries == 113


def test_the_general_step_sets_what_a_fresh_server_lacks_in_one_batch() -> None:
    facts = parse_facts("node1", "o=gluu", sections("node1"))
    assert facts.setting("size-limit") == "1000"
    assert facts.setting("idle-time-limit") == "0 seconds"
    todo = missing(facts)
    assert [name for _c, name, _v in todo] == [
        "allow-pre-encoded-passwords", "single-structural-objectclass-behavior", "size-limit",
        "lookthrough-limit", "ssl-encryption"]  # no idle limit already: "0 seconds" is "0 s"
    assert batch(todo).splitlines() == [
        'set-password-policy-prop --policy-name "Default Password Policy" '
        '--set "allow-pre-encoded-passwords:true"',
        'set-global-configuration-prop --set "single-structural-objectclass-behavior:accept" '
        '--set "size-limit:0" --set "lookthrough-limit:0"',
        'set-crypto-manager-prop --set "ssl-encryption:true"',
    ]


def test_a_conflict_entry_is_a_named_problem_with_its_dn() -> None:
    from gluu_cluster.ldap.checks import NodeLDAPStatus, problems_of
    from gluu_cluster.ldap.opendj import OpenDJEngine

    out = b"".join(
        render_section(name, 0, (RECORDED / f"node1-{file}").read_bytes())
        for name, file in (("suffix", "suffix.ldif"), ("backends", "backend.ldif"),
                           ("replication", "replication-monitor.ldif"),
                           ("servers", "servers.ldif"), ("admin-cert", "admin-cert.pem"))
    ) + render_section("general", 0, (RECORDED / "fresh-general.ldif").read_bytes()) + render_section(
        "conflicts", 0, b"dn: entryuuid=0aa1+ou=dup,o=gluu\n\n")
    facts = parse_facts("node1", "o=gluu", parse_sections(out))
    assert facts.conflicts == ("entryuuid=0aa1+ou=dup,o=gluu",)
    problems = problems_of([NodeLDAPStatus("node1", OpenDJEngine().replica(facts))], 1)
    conflict = [p for p in problems if p.code == "LDAP-CONFLICT-ENTRY"]
    assert len(conflict) == 1 and "entryuuid=0aa1+ou=dup,o=gluu" in conflict[0].detail


def test_replication_servers_of_a_removed_node_are_forgotten_everywhere() -> None:
    from dataclasses import replace

    from gluu_cluster.ldap.opendj.replication import prune_batch

    facts = parse_facts("node1", "o=gluu", sections("node1"))
    both = frozenset({"127.0.33.11:8989", "127.0.33.12:8990"})
    facts = replace(facts, configured_peers=both,
                    domains=(("cn=schema", both), ("o=gluu", both)))
    assert prune_batch(facts, set(both)) == ([], "")
    stale, batch = prune_batch(facts, {"127.0.33.11:8989"})
    assert stale == ["127.0.33.12:8990"]
    assert batch.splitlines() == [
        'set-replication-server-prop --provider-name "Multimaster Synchronization" '
        '--remove "replication-server:127.0.33.12:8990"',
        'set-replication-domain-prop --provider-name "Multimaster Synchronization" '
        '--domain-name "cn=schema" --remove "replication-server:127.0.33.12:8990"',
        'set-replication-domain-prop --provider-name "Multimaster Synchronization" '
        '--domain-name "o=gluu" --remove "replication-server:127.0.33.12:8990"',
    ]
