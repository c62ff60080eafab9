"""Requests through the load balancer while one node is drained and another rebooted.

    .venv/bin/python bench/balancer.py [--requests 600] [--base-address 127.0.22.11]

A 3-node lab with its front (nginx) and cache (Redis) hosts, applied. Every request is a
new HTTPS connection (as a browser's first request), sequential, loopback only, bounded
in count and time. Prints:
- baseline: the same number of requests straight to node1's application and through the
  balancer, interleaved (so both see the same machine load): p50/p99 each, and the p99
  the balancer adds (and the ratio);
- drain: requests through the balancer while `gluu-cluster drain node2` runs and after
  it: failed (target 0) and how many node2 served after drain returned (target 0);
- reboot: with node2 still drained, requests while `lab reboot node3 --hard` kills every
  process of node3 and boots it: failed (stated, not a target) and whether node3 served
  again afterwards.
"""

from __future__ import annotations

import argparse
import http.client
import json
import ssl
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from labtools import cli, lab, percentile  # noqa: E402

WEBAPP_PORT = 8443


class Client:
    def __init__(self, lab_dir: Path) -> None:
        data = yaml.safe_load((lab_dir / "cluster.yaml").read_text())
        self.nodes = {n["name"]: n["address"] for n in data["nodes"]}
        lb = data["load_balancer"]
        self.front = (lb["host"]["address"], lb.get("port", 443))
        cert = lab_dir / "nodes" / "node1" / "root" / "etc" / "certs" / "httpd.crt"
        self.context = ssl.create_default_context(cafile=str(cert))
        self.context.check_hostname = False

    def get(self, address: str, port: int, path: str) -> tuple[int, str, float]:
        """(status, serving node, seconds); status 0 when the request failed."""
        started = time.perf_counter()
        conn = http.client.HTTPSConnection(address, port, timeout=15, context=self.context)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = json.loads(response.read() or b"{}")
            return response.status, body.get("node", "?"), time.perf_counter() - started
        except (OSError, http.client.HTTPException, ValueError):
            return 0, "", time.perf_counter() - started
        finally:
            conn.close()

    def via(self, path: str) -> tuple[int, str, float]:
        return self.get(*self.front, path)

    def direct(self, node: str, path: str) -> tuple[int, str, float]:
        return self.get(self.nodes[node], WEBAPP_PORT, path)


class Loop:
    """Requests through the balancer, one after another, until stopped (or a bound)."""

    def __init__(self, client: Client, bound: int = 20_000) -> None:
        self.client, self.bound = client, bound
        self.results: list[tuple[float, int, str]] = []  # (when, status, node)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self.stop.is_set() and i < self.bound:
            i += 1
            code, node, _took = self.client.via(f"/oxauth/bench/{i}")
            self.results.append((time.monotonic(), code, node))

    def __enter__(self) -> Loop:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)

    def wait_for(self, count: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        start = len(self.results)
        while len(self.results) - start < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def failed(self) -> int:
        return sum(1 for _t, code, _n in self.results if code != 200)

    def served_after(self, moment: float) -> Counter[str]:
        return Counter(n for t, code, n in self.results if t > moment and code == 200)


def baseline(client: Client, requests: int) -> tuple[list[float], list[float], int]:
    direct, via, failed = [], [], 0
    for i in range(requests):
        for target, into in (("direct", direct), ("via", via)):
            code, _node, took = (client.direct("node1", f"/oxauth/base/{i}") if target == "direct"
                                 else client.via(f"/oxauth/base/{i}"))
            failed += code != 200
            into.append(took * 1000)
    return direct, via, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--base-address", default="127.0.22.11")
    args = parser.parse_args()
    with lab(3, 100, args.base_address, front=True) as lab_dir:
        inventory = str(lab_dir / "cluster.yaml")
        cli("apply", "-i", inventory, "--yes")
        client = Client(lab_dir)
        baseline(client, 30)  # warm both paths (TLS session caches, keepalive to nodes)
        direct, via, base_failed = baseline(client, args.requests)
        p99d, p99v = percentile(direct, 99), percentile(via, 99)
        print(f"baseline, {args.requests} requests each, new connection each, interleaved:")
        print(f"  direct to node1:      p50 {statistics.median(direct):6.2f} ms   p99 {p99d:6.2f} ms")
        print(f"  through the balancer: p50 {statistics.median(via):6.2f} ms   p99 {p99v:6.2f} ms")
        print(f"  added p99: {p99v - p99d:+.2f} ms ({p99v / p99d:.2f}x the direct p99); "
              f"failed {base_failed}")

        with Loop(client) as loop:
            loop.wait_for(100, 60)
            cli("drain", "node2", "-i", inventory)
            drained_at = time.monotonic()
            loop.wait_for(args.requests // 2, 120)
        after = loop.served_after(drained_at)
        print(f"drain node2 under load: {len(loop.results)} requests, failed {loop.failed()}; "
              f"after drain returned node2 served {after['node2']}, node1 {after['node1']}, "
              f"node3 {after['node3']}")

        with Loop(client) as loop:
            loop.wait_for(100, 60)
            began = time.monotonic()
            cli("lab", "reboot", "node3", "--hard", "--lab-dir", str(lab_dir))
            booted = time.monotonic()
            deadline = booted + 60
            while time.monotonic() < deadline and not loop.served_after(booted)["node3"]:
                time.sleep(0.1)
            back = time.monotonic() - booted
            loop.wait_for(50, 30)
        served_again = loop.served_after(booted)["node3"] > 0
        print(f"reboot node3 (--hard, node2 drained) under load: {len(loop.results)} requests, "
              f"failed {loop.failed()}; boot took {booted - began:.1f} s; node3 served again "
              + (f"{back:.1f} s after its boot" if served_again else "NOT within 60 s"))
        cli("undrain", "node2", "-i", inventory)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
