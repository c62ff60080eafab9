"""Replication latency: a write on node 1, polled on nodes 2 and 3 until visible on all.

Baseline in the same run: the write's own acknowledgement on node 1 (local write-ack).
OpenLDAP: everything over LDAPS with the cluster CA verified (TLS on); OpenDJ: over its
plain LDAP port on each node's own address (its LDAPS certificate is its own, not the
cluster CA's yet). Through python-ldap.

    .venv/bin/python bench/ldap_latency.py [--writes 300] [--engine opendj]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import ldap
import yaml
from labtools import cli, lab, percentile


def connect(address: str, ca: Path, admin_dn: str, password: str,
            engine: str) -> ldap.ldapobject.LDAPObject:
    if engine == "opendj":
        conn = ldap.initialize(f"ldap://{address}:1389")
    else:
        conn = ldap.initialize(f"ldaps://{address}:1636")
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, str(ca))
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    conn.simple_bind_s(admin_dn, password)
    return conn


def visible(conn: ldap.ldapobject.LDAPObject, dn: str) -> bool:
    try:
        conn.search_s(dn, ldap.SCOPE_BASE, attrlist=["1.1"])
        return True
    except ldap.NO_SUCH_OBJECT:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--base-address", default="127.0.8.11")
    parser.add_argument("--engine", choices=["openldap", "opendj"], default="openldap")
    args = parser.parse_args()
    with lab(3, 1000, args.base_address, args.engine) as lab_dir:
        inventory = lab_dir / "cluster.yaml"
        cli("apply", "-i", str(inventory), "--yes")
        data = yaml.safe_load(inventory.read_text())
        password = Path(data["ldap"]["admin_password"]["file"]).read_text().strip()
        ca = Path(data["pki"]["directory"]) / "cluster-ca.crt"
        admin = data["ldap"]["admin_dn"]
        writer, *readers = (connect(n["address"], ca, admin, password, args.engine)
                            for n in data["nodes"])
        local, everywhere = [], []
        for i in range(args.writes):
            dn = f"uid=latency{i:05d},ou=people,o=gluu"
            record = [("objectClass", [b"inetOrgPerson"]), ("uid", [f"latency{i:05d}".encode()]),
                      ("cn", [b"latency"]), ("sn", [b"bench"])]
            started = time.perf_counter()
            writer.add_s(dn, record)
            local.append(time.perf_counter() - started)
            pending = list(readers)
            deadline = started + 30
            while pending and time.perf_counter() < deadline:
                pending = [r for r in pending if not visible(r, dn)]
            if pending:
                raise SystemExit(f"{dn} not on every node after 30 s")
            everywhere.append(time.perf_counter() - started)
    ms = 1000.0
    lp50, lp99 = percentile(local, 50) * ms, percentile(local, 99) * ms
    rp50, rp99 = percentile(everywhere, 50) * ms, percentile(everywhere, 99) * ms
    how = ("OpenDJ multi-master, plain LDAP to the nodes" if args.engine == "opendj"
           else "delta-syncrepl over LDAPS (TLS verified)")
    print(f"{args.writes} writes on node1, 3 nodes, {how}")
    print(f"local write-ack (baseline): p50 {lp50:.2f} ms  p99 {lp99:.2f} ms  "
          f"mean {statistics.mean(local) * ms:.2f} ms")
    print(f"visible on all 3 nodes:     p50 {rp50:.2f} ms  p99 {rp99:.2f} ms  "
          f"mean {statistics.mean(everywhere) * ms:.2f} ms")
    print(f"ratio p50 {rp50 / lp50:.2f}x  p99 {rp99 / lp99:.2f}x (target p99 <= 3x)")


if __name__ == "__main__":
    main()
