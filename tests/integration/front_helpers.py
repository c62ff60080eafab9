"""Requests to the lab's stand-in Gluu applications, directly and through the balancer."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gluu_cluster.lab.proc import read_pid
from gluu_cluster.lab.webapp import PORT

from .conftest import RunningLab


class Front:
    """HTTPS clients that trust the cluster's web server certificate (the one the
    certificate sets gave every node, which the balancer serves too)."""

    def __init__(self, lab: RunningLab) -> None:
        self.lab = lab
        self.addresses = {n.name: n.address for n in lab.inventory.nodes}
        balancer = lab.inventory.load_balancer
        assert balancer is not None
        self.front = (balancer.host.address, balancer.port)
        self.context = ssl.create_default_context(cafile=str(lab.root("node1") / "etc/certs/httpd.crt"))
        self.context.check_hostname = False  # addresses, not the certificate's name

    def _get(self, address: str, port: int, path: str) -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPSConnection(address, port, timeout=15, context=self.context)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()

    def direct(self, node: str, path: str) -> tuple[int, dict[str, Any]]:
        return self._get(self.addresses[node], PORT, path)

    def via(self, path: str) -> tuple[int, dict[str, Any]]:
        return self._get(*self.front, path)

    def until_on(self, node: str, path: str, attempts: int = 60) -> dict[str, Any]:
        """Through the balancer until a request lands on ``node`` (round robin)."""
        for _ in range(attempts):
            code, body = self.via(path)
            if code == 200 and body.get("node") == node:
                return body
        raise AssertionError(f"{attempts} requests through the balancer, none on {node}")

    def spread(self, count: int) -> Counter[str]:
        """Which node served each of ``count`` requests (new connection each), and failures."""
        served: Counter[str] = Counter({name: 0 for name in self.addresses} | {"failed": 0})
        for i in range(count):
            try:
                code, body = self.via(f"/oxauth/spread/{i}")
                served[body["node"] if code == 200 else "failed"] += 1
            except (OSError, http.client.HTTPException, ValueError):
                served["failed"] += 1
        return served

    def workers(self) -> frozenset[int]:
        """nginx's worker processes now (the master's children): a reload replaces them."""
        master = read_pid(self.lab.root("front") / "run/gluu-cluster-nginx.pid")
        found = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if master is not None and fields[1] == str(master):
                found.add(int(stat.parent.name))
        return frozenset(found)

    @contextmanager
    def loop(self) -> Iterator[dict[str, int]]:
        """Requests through the balancer, one after another, while the body runs; the
        outcome counts them, and "reloaded" is 1 when no worker of the start is left at
        the end (nginx reloaded)."""
        outcome = {"ok": 0, "failed": 0, "reloaded": 0}
        before = self.workers()
        errors: list[str] = []
        stop = threading.Event()

        def work() -> None:
            i = 0
            while not stop.is_set() and i < 100_000:
                i += 1
                try:
                    code, _body = self.via(f"/oxauth/loop/{i}")
                    outcome["ok" if code == 200 else "failed"] += 1
                    if code != 200:
                        errors.append(str(code))
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    outcome["failed"] += 1
                    errors.append(repr(exc))

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        try:
            yield outcome
        finally:
            stop.set()
            thread.join(timeout=60)
            after = self.workers()
            outcome["reloaded"] = int(bool(before and after and not before & after))
            if errors:
                outcome["first_errors"] = errors[:3]  # type: ignore[assignment]
