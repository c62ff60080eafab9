"""The OpenDJ engine's fact parser, on outputs recorded from a real 2-node OpenDJ 5.0.3
lab (replication enabled and initialised, one write made on node2)."""

from __future__ import annotations

from pathlib import Path

from gluu_cluster.facts.script import Sections, parse_sections, render_section
from gluu_cluster.ldap.agreement import SyncPoint, behind, by_server_id
from gluu_cluster.ldap.opendj.facts import neutral_csn, parse_facts
from gluu_cluster.ldap.opendj.general import batch, missing

RECORDED = Path(__file__).parent / "fixtures" / "opendj"


def sections(node: str, **override: tuple[int, bytes]) -> Sections:
    """The node's recorded fact script output; ``override``: a section's (exit, output)."""
    recorded = {name: (0, (RECORDED / f"{node}-{file}").read_bytes())
                for name, file in (("suffix", "suffix.ldif"), ("backends", "backend.ldif"),
                                   ("replication", "replication-monitor.ldif"),
                                   ("servers", "servers.ldif"), ("admin-cert", "admin-cert.pem"))}
    # Recorded on a freshly set up node: the defaults the general and TLS steps change.
    recorded["general"] = (0, (RECORDED / "fresh-general.ldif").read_bytes())
    recorded["key-stores"] = (0, (RECORDED / "fresh-key-stores.ldif").read_bytes())
    recorded["ldaps-cert"] = (0, (RECORDED / "node1-ldaps-cert.pem").read_bytes())
    recorded["ads-keys"] = (0, b"")  # none of the cluster's yet
    recorded.update(override)
    return parse_sections(b"".join(render_section(name, code, out)
                                   for name, (code, out) in recorded.items()))


def test_csns_translate_to_the_neutral_form_in_time_order() -> None:
    # 0x1a2137878a8 ms = 2026-11-25 16:09:52.040 UTC, server ID 0x0900 = 2304, seq 1.
    assert neutral_csn("000001a2137878a8090000000001") == "20261125160952.040000Z#000001#0900#000000"
    assert neutral_csn("000001a2137878a9090000000000")  > neutral_csn("000001a2137878a8090000000001")  # type: ignore[operator]
    assert neutral_csn("not-a-csn") is None


def test_a_replicated_node_reads_its_server_id_entries_state_and_peer() -> None:
    one, two = (parse_facts(n, "o=gluu", sections(n)) for n in ("node1", "node2"))
    assert (one.server_id, two.server_id) == (21588, 2304)
    assert one.entries == two.entries == 113
    assert one.backend_id == "userRoot"  # recorded with ds-backend-id (node2: before it was read)
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
    facts = parse_facts("node1", "o=gluu", sections(
        "node1", suffix=(0, b"dn: o=gluu\nentryUUID: e3b8b668-8139-3310-86d7-59ca1f4696fc\n"),
        replication=(32, b""), servers=(32, b""), **{"admin-cert": (1, b"")}))
    assert (facts.server_id, facts.links, facts.csns, facts.generation_id) == (None, (), (), None)
    assert facts.entries == 113


def test_the_general_step_sets_what_a_fresh_server_lacks_in_one_batch() -> None:
    facts = parse_facts("node1", "o=gluu", sections("node1"))
    assert facts.setting("size-limit") == "1000"
    assert facts.setting("idle-time-limit") == "0 seconds"
    todo = missing(facts)
    assert [name for _c, name, _v in todo] == [
        "allow-pre-encoded-passwords", "single-structural-objectclass-behavior", "size-limit",
        "lookthrough-limit", "ssl-encryption", "ssl-cert-nickname",
    ]  # no idle limit already: "0 seconds" is "0 s"
    assert batch(todo).splitlines() == [
        'set-password-policy-prop --policy-name "Default Password Policy" '
        '--set "allow-pre-encoded-passwords:true"',
        'set-global-configuration-prop --set "single-structural-objectclass-behavior:accept" '
        '--set "size-limit:0" --set "lookthrough-limit:0"',
        'set-crypto-manager-prop --set "ssl-encryption:true" '
        '--set "ssl-cert-nickname:gluu-cluster"',
    ]


def test_a_conflict_entry_is_a_named_problem_with_its_dn() -> None:
    from gluu_cluster.ldap.checks import NodeLDAPStatus, problems_of
    from gluu_cluster.ldap.opendj import OpenDJEngine

    facts = parse_facts("node1", "o=gluu", sections(
        "node1", conflicts=(0, b"dn: entryuuid=0aa1+ou=dup,o=gluu\n\n")))
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
    assert prune_batch(facts, set(both)) == ([], [])
    stale, batch = prune_batch(facts, {"127.0.33.11:8989"})
    assert stale == ["127.0.33.12:8990"]
    assert batch == [
        'set-replication-server-prop --provider-name "Multimaster Synchronization" '
        '--remove "replication-server:127.0.33.12:8990"',
        'set-replication-domain-prop --provider-name "Multimaster Synchronization" '
        '--domain-name "cn=schema" --remove "replication-server:127.0.33.12:8990"',
        'set-replication-domain-prop --provider-name "Multimaster Synchronization" '
        '--domain-name "o=gluu" --remove "replication-server:127.0.33.12:8990"',
    ]


def test_replication_leaves_from_the_nodes_address_once_set_everywhere() -> None:
    from gluu_cluster.ldap.opendj.replication import source_batch

    # As dsreplication enable leaves it: OpenDJ lets the kernel pick the source address.
    facts = parse_facts("node1", "o=gluu", sections("node1"))
    assert set(dict(facts.source_addresses).values()) == {""}
    lines = source_batch(facts, "127.0.33.11")
    assert len(lines) == len(facts.source_addresses) == len(facts.domains) + 1
    assert ('set-replication-server-prop --provider-name "Multimaster Synchronization" '
            '--set "source-address:127.0.33.11"') in lines
    # Recorded after the step set it (3 nodes): nothing left to do, and a node whose
    # address changed gets every one set again.
    sourced = parse_facts("node1", "o=gluu", sections(
        "node1", servers=(0, (RECORDED / "node1-servers-sourced.ldif").read_bytes())))
    assert dict(sourced.source_addresses) == {"": "127.0.33.11", "cn=admin data": "127.0.33.11",
                                              "cn=schema": "127.0.33.11", "o=gluu": "127.0.33.11"}
    assert source_batch(sourced, "127.0.33.11") == []
    moved = source_batch(sourced, "127.0.33.99")
    assert len(moved) == 4
    assert ('set-replication-domain-prop --provider-name "Multimaster Synchronization" '
            '--domain-name "o=gluu" --set "source-address:127.0.33.99"') in moved


def test_verify_lists_conflict_entries_and_repair_keeps_them_as_ldif(tmp_path: Path) -> None:
    from gluu_cluster.ldap.entry import parse_entries
    from gluu_cluster.ldap.opendj import OpenDJEngine
    from gluu_cluster.ldap.verify import digest, keep

    engine = OpenDJEngine()
    # As OpenDJ 5.0.3 returned them after two nodes renamed an entry to one name at once.
    loser, winner = parse_entries(
        b"dn: entryuuid=a413e334-50ff-4236-bfa6-8e416e605125+uid=clash3,ou=people,o=gluu\n"
        b"cn: b\nds-sync-conflict: uid=clash3,ou=people,o=gluu\n"
        b"ds-sync-hist: dn:000001a21411d63c668200000006:moddn\n"
        b"entryUUID: a413e334-50ff-4236-bfa6-8e416e605125\nobjectClass: top\n"
        b"objectClass: inetOrgPerson\nsn: S\nuid: clash3\n\n"
        b"dn: uid=clash3,ou=people,o=gluu\ncn: a\n"
        b"ds-sync-hist: dn:000001a21411d6200c4f00000007:moddn\n"
        b"entryUUID: 5216fa2c-1efd-44db-a55d-3c9f7266c4fe\nobjectClass: top\n"
        b"objectClass: inetOrgPerson\nsn: S\nuid: clash3\ndescription:: IGxlYWRpbmcgc3BhY2U=\n\n")
    assert engine.conflict_of(loser) == "uid=clash3,ou=people,o=gluu"
    assert engine.conflict_of(winner) is None
    # The same user attributes under another entryUUID differ (what verify compares).
    same_but_uuid = parse_entries(
        b"dn: uid=clash3,ou=people,o=gluu\ncn: a\nentryUUID: 0000\nobjectClass: top\n"
        b"objectClass: inetOrgPerson\nsn: S\nuid: clash3\ndescription:: IGxlYWRpbmcgc3BhY2U=\n")
    assert digest(winner, engine).digest == digest(same_but_uuid[0], engine).digest
    assert digest(winner, engine) != digest(same_but_uuid[0], engine)
    assert digest(winner, engine).csn == "000001a21411d6200c4f00000007"

    path = tmp_path / "kept" / "conflict.ldif"
    keep(path, [loser, winner], engine)
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    text = path.read_text()
    assert "cn: b\n" in text and "uid: clash3\n" in text
    # What the server keeps itself is a comment (not added back); unsafe values in base64.
    assert "# ds-sync-conflict: uid=clash3,ou=people,o=gluu\n" in text
    assert "# entryuuid: a413e334-50ff-4236-bfa6-8e416e605125\n" in text
    assert "description:: IGxlYWRpbmcgc3BhY2U=\n" in text
    assert [e.dn for e in parse_entries(text.encode())] == [loser.dn, winner.dn]


def test_tls_wants_keys_from_the_cluster_ca_everywhere_and_the_ca_trusted_for_replication(
        tmp_path: Path) -> None:
    from cryptography import x509

    from gluu_cluster.ldap.opendj.tls import ALIAS, CA_ALIAS, _why_not
    from gluu_cluster.pki.ca import ClusterCA

    class Handle:  # what _why_not reads of a node handle
        name = "node1"

        class node:  # noqa: N801
            address = "127.0.32.11"

    # A fresh node: self-signed LDAPS and admin certificates, nothing in cn=ads-truststore.
    fresh = parse_facts("node1", "o=gluu", sections("node1"))
    assert fresh.ads_keys == ()
    ca = ClusterCA.load_or_create(tmp_path / "ca", "lab")
    reasons = _why_not(ca, fresh, Handle())  # type: ignore[arg-type]
    assert [r.split(":")[0] for r in reasons] == [
        "LDAPS listener", "administration connector", "replication key (cn=ads-truststore)",
        "replication does not trust the cluster CA yet (cn=ads-truststore)"]
    assert "not issued by the cluster CA" in reasons[0] and "no certificate yet" in reasons[2]
    # Recorded after the step on a real node: both entries read back as PEM (the CA's is
    # the lab's CA, byte for byte; the node's key was issued by it for node1's address).
    done = parse_facts("node1", "o=gluu", sections(
        "node1", **{"ads-keys": (0, (RECORDED / "node1-ads-keys.ldif").read_bytes())}))
    assert [alias for alias, _pem in done.ads_keys] == [ALIAS, CA_ALIAS]
    recorded_ca = (RECORDED / "cluster-ca.crt").read_text()
    assert done.ads_cert(CA_ALIAS) == recorded_ca
    issued = x509.load_pem_x509_certificate((done.ads_cert(ALIAS) or "").encode())
    issued.verify_directly_issued_by(x509.load_pem_x509_certificate(recorded_ca.encode()))
