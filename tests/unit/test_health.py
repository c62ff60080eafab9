"""Status, preflight, metrics, journal and Java store reading: pure parts, no node."""

from __future__ import annotations

import hashlib
import re
import struct
from pathlib import Path

import pytest

from gluu_cluster.inventory import load_inventory
from gluu_cluster.journal import Journal, read_previous
from gluu_cluster.ldap.agreement import SyncPoint, csn_time, lag_seconds
from gluu_cluster.pki.javastore import StorePasswordError, opens, read_store
from gluu_cluster.preflight import evaluate
from gluu_cluster.preflight.facts import NodeFacts, parse_lines
from gluu_cluster.preflight.ports import PortResult
from gluu_cluster.problems import REGISTRY, Problem
from gluu_cluster.status import ClusterStatus, NodeRow
from gluu_cluster.status.columns import COLUMNS, cells, status_dict
from gluu_cluster.status.gather import DOWN_CODES, LINK_CODES
from gluu_cluster.status.snapshot import LDAPRole, Replication, SetState
from gluu_cluster.web import metrics
from gluu_cluster.web.server import Latest, _health_body, _node_body, parse_listen

SRC = Path(__file__).resolve().parents[2] / "src" / "gluu_cluster"


def test_every_problem_code_is_defined_once_and_only_through_the_registry() -> None:
    import gluu_cluster.preflight.evaluate  # noqa: F401
    import gluu_cluster.status.gather  # noqa: F401 - imports every area's checks

    defined = []
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        defined += re.findall(r'define\(\s*"([A-Z0-9-]+)"', text)
        if path.name != "problems.py":
            assert "Problem(" not in text, f"{path}: build problems with a defined Check"
    assert len(defined) == len(set(defined)), sorted(c for c in defined if defined.count(c) > 1)
    assert set(defined) == set(REGISTRY)
    prefixes = {code.split("-")[0] for code in defined}
    assert prefixes == {"LDAP", "SYNC", "CERT", "PRE", "NODE", "APPS", "BALANCER", "CACHE"}


def _inventory(tmp_path: Path, extra: str = "") -> object:
    secret = tmp_path / "pw"
    secret.write_text("x")
    secret.chmod(0o600)
    path = tmp_path / "c.yaml"
    path.write_text(f"cluster: c\nnodes:\n  - {{name: n1, address: 10.0.0.1}}\n"
                    f"  - {{name: n2, address: 10.0.0.2}}\n  - {{name: n3, address: 10.0.0.3}}\n"
                    f"{extra}")
    return load_inventory(path)


def test_preflight_thresholds_clock_and_properties(tmp_path: Path) -> None:
    inv = _inventory(tmp_path, "preflight: {min_memory_gb: 4, max_clock_skew: 0.5}\n")
    small = NodeFacts("n1", cpus=1, mem_kb=3_900_000, root_kb=50_000_000)
    states = {v.requirement: v for v in evaluate.resources(inv, small)}  # type: ignore[arg-type]
    assert states["CPUs"].state == "fail" and states["CPUs"].problem.code == "PRE-CPUS"  # type: ignore[union-attr]
    assert states["RAM"].state == "pass"  # 3.99 GB >= 95% of the configured 4
    assert states["root partition"].state == "pass"
    facts = [NodeFacts(n, clock_offset=o, clock_uncertainty=0.01,
                       properties={"shibJksPass": p, "oxVersion": v})
             for n, o, p, v in (("n1", 0.0, "a", "3.1.6"), ("n2", 0.3, "a", "3.1.6"),
                                ("n3", -0.9, "b", "3.1.5"))]
    clock = {v.node: v.state for v in evaluate.clocks(inv, facts)}  # type: ignore[arg-type]
    assert clock == {"n1": "pass", "n2": "pass", "n3": "fail"}
    found = [v.problem for v in evaluate.properties(inv, facts) if v.problem]  # type: ignore[arg-type]
    differ = [p for p in found if p.code == "PRE-PROPERTIES-DIFFER"]
    assert differ and "shibJksPass" in differ[0].detail and "n3" in differ[0].detail
    assert not any("'b'" in p.detail or "=b" in p.detail for p in found)
    assert {p.code for p in found} >= {"PRE-GLUU-VERSION"}


def test_preflight_opendj_installed_and_its_heap_within_the_nodes_ram(tmp_path: Path) -> None:
    from gluu_cluster.preflight.facts import heap_mb

    # As config/java.properties of OpenDJ 5.0.3 spells them; the last -Xmx wins.
    assert heap_mb("-server -Xms256m -Xmx2g -XX:+UseG1GC") == 2048
    assert heap_mb("-Xmx512M -Xmx1024m") == 1024
    assert heap_mb("-Xmx1073741824") == 1024
    assert heap_mb("-server -Xms2g") is None and heap_mb("") is None
    inv = _inventory(tmp_path, "ldap:\n  engine: opendj\n  admin_password: {file: pw}\n")
    ram = 4 * 1024 * 1024  # kB

    def states(**facts: object) -> dict[str, tuple[str, str | None]]:
        found = evaluate.opendj(inv, NodeFacts("n1", mem_kb=ram, **facts))  # type: ignore[arg-type]
        return {v.requirement: (v.state, v.problem.code if v.problem else None) for v in found}

    assert states() == {}  # not asked: another engine
    assert states(opendj_installed=True, opendj_heap_mb=1024) == {
        "OpenDJ": ("pass", None), "OpenDJ heap": ("pass", None)}
    assert states(opendj_installed=True, opendj_heap_mb=3072)["OpenDJ heap"] == (
        "fail", "PRE-OPENDJ-HEAP")
    assert states(opendj_installed=True)["OpenDJ heap"] == ("warn", "PRE-OPENDJ-HEAP-UNSET")
    missing = evaluate.opendj(inv, NodeFacts("n1", mem_kb=ram, opendj_installed=False))  # type: ignore[arg-type]
    assert [v.requirement for v in missing] == ["OpenDJ"] and missing[0].problem is not None
    fix = missing[0].problem.fix
    assert "unzip opendj-server-legacy-5.0.3.zip -d /opt'" in fix and "/opt/opendj/setup" in fix
    assert "--ldapsPort 1636 --adminConnectorPort 4444 --baseDN o=gluu" in fix


def test_preflight_names_ports_and_parsing() -> None:
    values, missing, resolves = parse_lines("cpus=2\nmissing=python3\nresolve:n2=10.0.0.9\nnoise")
    assert values == {"cpus": "2"} and missing == ["python3"] and resolves == {"n2": "10.0.0.9"}
    results = [PortResult("n1", "n2", 30865, "timeout", "check's listener"),
               PortResult("n1", "n3", 30865, "refused", None),
               PortResult("n2", "n1", 1636, "open", "a service")]
    by = {v.node: v for v in evaluate.ports(results, ["n1", "n2"])}
    assert by["n1"].state == "fail" and "n2:30865 (timeout; check's listener" in by["n1"].detail
    assert by["n2"].state == "pass"


def test_names_resolving_elsewhere_fail_only_when_dns_wins(tmp_path: Path) -> None:
    inv = _inventory(tmp_path)
    wrong = {"n2": "10.9.9.9"}
    files_first = NodeFacts("n1", nsswitch="hosts: files dns", host_resolves=wrong)
    dns_first = NodeFacts("n1", nsswitch="hosts: dns files", host_resolves=wrong)
    assert evaluate.names(inv, files_first).state == "pass"  # type: ignore[arg-type]
    assert evaluate.names(inv, dns_first).state == "fail"  # type: ignore[arg-type]


def test_lag_from_csns() -> None:
    t = "20261124100000.000000Z#000000#001#000000"
    later = "20261124100005.500000Z#000000#001#000000"
    assert csn_time(later) - csn_time(t) == pytest.approx(5.5)  # type: ignore[operator]
    points = {"a": SyncPoint(10, (later,), 1), "b": SyncPoint(10, (t,), 2),
              "c": SyncPoint(10, (), 3)}
    lags = lag_seconds(points, now=csn_time(later) + 2)  # type: ignore[operator]
    assert lags["a"] == 0 and lags["b"] == pytest.approx(5.5) and lags["c"] == pytest.approx(2)


def _status(healthy: bool) -> ClusterStatus:
    problems = [] if healthy else [Problem("NODE-UNREACHABLE", "error", "n2", "down", "fix")]
    return ClusterStatus("c", 1000.0, 1.5, (
        NodeRow("n1", "10.0.0.1", True, entries=5, lag_seconds=0.0, dirty=0, last_sync=990),
        NodeRow("n2", "10.0.0.2", False, reachable=healthy)), tuple(problems),
        link_codes=LINK_CODES, down_codes=DOWN_CODES)


def test_one_column_spec_feeds_table_json_and_page() -> None:
    from gluu_cluster.web import page

    row = NodeRow("n1", "10.0.0.1", True, ldap_role=LDAPRole.PARTIAL, consumers=1, peers=2,
                  replication=Replication.DISCONNECTED, last_sync=990,
                  certificates=(SetState("gluu", 0), SetState("idp", 2)))
    status = ClusterStatus("c", 1000.0, 1.5, (row, NodeRow("n2", "10.0.0.2", False, reachable=False)),
                           ())
    shown = [c.text for c in cells(row, 1000.0)]
    assert shown[:6] == ["n1 *", "10.0.0.1", "partial 1/2", "-", "disconnected", "-"]
    assert shown[9:] == ["10 s ago", "gluu ok, idp 2 problem(s)", "-"]  # no balancer
    assert [c.tone.value for c in cells(row, 1000.0)][4] == "bad"
    down = [c.text for c in cells(status.nodes[1], 1000.0)]
    assert down == ["n2", "10.0.0.2", "unreachable", *["-"] * (len(COLUMNS) - 3)]
    data = status_dict(status)["nodes"][0]
    assert {c.key for c in COLUMNS} <= set(data)
    assert data["ldap_role"] == "partial 1/2" and data["replication"] == "disconnected"
    html = page.render(page.view(status, (), 1000.0, 10))
    assert all(f"<th>{c.header}</th>" in html for c in COLUMNS)
    assert '<td class="bad" data-tone="bad">disconnected</td>' in html and "10 s ago" in html


def test_health_bodies_and_metrics() -> None:
    latest = Latest(interval=10, status=_status(False))
    assert _health_body(latest, 1001)[0] == 503
    assert _node_body(latest, "n1", 1001)[0] == 200
    assert _node_body(latest, "n2", 1001)[0] == 503
    assert _node_body(latest, "nX", 1001)[0] == 404
    latest.status = _status(True)
    assert _health_body(latest, 1001)[0] == 200
    assert _health_body(latest, 1031)[0] == 200  # 29.5 s after the read: within 3 cycles
    assert _health_body(latest, 1040)[0] == 503  # stale: 3 x (10 s + 1.5 s read) passed
    text = metrics.render(_status(False))
    assert 'gluu_cluster_node_up{node="n2"} 0' in text
    assert 'gluu_cluster_ldap_entries{node="n1"} 5' in text
    assert 'gluu_cluster_ldap_entries{node="n2"}' not in text  # unknown is absent, not 0
    families = re.findall(r"^# TYPE (\S+)", text, re.MULTILINE)
    assert len(families) == len(set(families))
    assert parse_listen("[::1]:80") == ("::1", 80)
    with pytest.raises(Exception, match="ADDRESS:PORT"):
        parse_listen("host")


def test_journal_names_what_a_killed_run_cut_off(tmp_path: Path) -> None:
    inv = _inventory(tmp_path)
    with Journal(inv) as journal:  # type: ignore[arg-type]
        journal.started("n1", "certs-gluu", "copy")
        journal.done("n1", "certs-gluu")
        journal.started("n2", "ldap-init", "import")
        # killed here: no done, no end
    previous = read_previous(inv)  # type: ignore[arg-type]
    assert not previous.finished and previous.keys == {("n2", "ldap-init")}
    with Journal(inv) as journal:  # type: ignore[arg-type]
        assert journal.previous.keys == {("n2", "ldap-init")}
        # killed again before redoing it: still on record
    assert read_previous(inv).keys == {("n2", "ldap-init")}  # type: ignore[arg-type]
    with Journal(inv) as journal:  # type: ignore[arg-type]
        journal.started("n2", "ldap-init", "import")
        journal.done("n2", "ldap-init")
        journal.finish()
    after = read_previous(inv)  # type: ignore[arg-type]
    assert after.finished and not after.interrupted and after.nodes == ["n1", "n2", "n3"]
    assert (tmp_path / ".gluu-cluster").stat().st_mode & 0o777 == 0o700


def _jks(password: str, alias: str, der: bytes) -> bytes:
    body = struct.pack(">III", 0xFEEDFEED, 2, 1)
    body += struct.pack(">I", 2) + struct.pack(">H", len(alias)) + alias.encode()
    body += struct.pack(">Q", 0) + struct.pack(">H", 5) + b"X.509"
    body += struct.pack(">I", len(der)) + der
    digest = hashlib.sha1(password.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()
    return body + digest


def test_jks_reading_checks_the_password() -> None:
    store = _jks("changeit", "Node1_Httpd", b"\x30\x03\x02\x01\x01")
    entries = read_store(store, "changeit")
    assert [e.alias for e in entries] == ["node1_httpd"]
    assert entries[0].fingerprint == hashlib.sha256(b"\x30\x03\x02\x01\x01").digest().hex(":").upper()
    assert not opens(store, "wrong")
    with pytest.raises(StorePasswordError):
        read_store(store, "wrong")
