"""Serve the latest ClusterStatus: a snapshot refreshed on an interval, never per request.

A load balancer asking every second costs nothing on the nodes: requests read the last
snapshot. The HTTP side is the standard library's threading server; the refresh loop is
asyncio in the main thread. A snapshot not renewed for three refresh cycles counts as unhealthy.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import signal
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import click

from ..connection import ClusterConnection
from ..errors import GluuClusterError, UsageError
from ..inventory import Inventory
from ..secrets import redactor
from ..status import ClusterStatus
from ..status.cell import Tone
from ..status.columns import (
    COLUMNS,
    SERVICE_HEADERS,
    cells,
    row_dict,
    service_cells,
    status_dict,
    taken,
    verdict,
)
from ..status.gather import gather_status
from . import metrics

log = logging.getLogger(__name__)


@dataclass
class Latest:
    """The snapshot requests read (replaced whole, so readers need no lock)."""

    interval: float
    status: ClusterStatus | None = None
    error: str | None = None

    def stale(self, now: float) -> bool:
        """No new snapshot for three refresh cycles (a cycle: the wait plus the read, which
        is long when a node stops answering mid-read)."""
        if self.status is None:
            return True
        finished = self.status.taken_at + self.status.seconds
        return now - finished > 3 * (self.interval + self.status.seconds)


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--listen {text!r}: give ADDRESS:PORT, e.g. 127.0.0.1:8990")
    return host, int(port)


def _health_body(latest: Latest, now: float) -> tuple[int, dict[str, Any]]:
    status = latest.status
    if status is None:
        return 503, {"healthy": False, "reason": latest.error or "the first status read is running"}
    body = status_dict(status)
    body["age_seconds"] = round(now - status.taken_at, 1)
    if latest.stale(now):
        body["healthy"] = False
        body["reason"] = (f"status not refreshed for {body['age_seconds']} s"
                          + (f": {latest.error}" if latest.error else ""))
        return 503, body
    return (200 if status.healthy else 503), body


def _node_body(latest: Latest, name: str, now: float) -> tuple[int, dict[str, Any]]:
    status = latest.status
    if status is None:
        return 503, {"node": name, "healthy": False, "reason": "no status read yet"}
    row = status.node(name)
    if row is None:
        return 404, {"node": name, "reason": "no such node in the inventory"}
    healthy = status.node_healthy(name) and not latest.stale(now)
    return (200 if healthy else 503), {
        "node": name, "healthy": healthy, "age_seconds": round(now - status.taken_at, 1),
        "status": row_dict(row), "problems": [asdict(p) for p in status.node_problems(name)],
    }


_STYLE = ("body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
          "td,th{border:1px solid #999;padding:.3em .6em;text-align:left}"
          ".good{color:#176f2c}.warn{color:#8a5a00}.bad{color:#b3261e;font-weight:bold}")


def _page(latest: Latest) -> str:
    """The status table from the one column spec (the same columns as ``status``)."""
    status = latest.status
    if status is None:
        return "<p>reading the cluster ...</p>"

    def td(text: str, tone: Tone) -> str:
        css = "" if tone is Tone.PLAIN else f' class="{tone.value}"'
        return f"<td{css}>{html.escape(text)}</td>"

    head = "".join(f"<th>{html.escape(c.header)}</th>" for c in COLUMNS)
    rows = "".join("<tr>" + "".join(td(c.text, c.tone) for c in cells(r, status.taken_at))
                   + "</tr>" for r in status.nodes)
    services = ("<table><tr>" + "".join(f"<th>{h}</th>" for h in SERVICE_HEADERS) + "</tr>"
                + "".join("<tr>" + "".join(td(c.text, c.tone) for c in service_cells(s))
                          + "</tr>" for s in status.services) + "</table>"
                if status.services else "")
    problems = "".join(f"<li><b>{html.escape(p.code)}</b> {html.escape(p.node)}: "
                       f"{html.escape(p.detail)}<br><i>fix: {html.escape(p.fix)}</i></li>"
                       for p in status.problems)
    state = verdict(status)
    return (f"<!doctype html><title>{html.escape(status.cluster)}</title>"
            f'<meta http-equiv="refresh" content="{int(latest.interval)}"><style>{_STYLE}</style>'
            f'<h1>cluster {html.escape(status.cluster)}: <span class="{state.tone.value}">'
            f"{html.escape(state.text)}</span></h1><p>{html.escape(taken(status))}</p>"
            f"<table><tr>{head}</tr>{rows}</table>{services}<ul>{problems}</ul>")


def make_handler(latest: Latest) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "gluu-cluster"

        def _send(self, code: int, body: str, content_type: str) -> None:
            data = redactor.scrub(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _json(self, code: int, body: dict[str, Any]) -> None:
            self._send(code, json.dumps(body, indent=2), "application/json")

        def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
            now = time.time()
            path = self.path.split("?", 1)[0].rstrip("/") or "/"
            parts = path.strip("/").split("/")
            if path == "/health":
                self._json(*_health_body(latest, now))
            elif len(parts) == 3 and parts[0] == "nodes" and parts[2] == "health":
                self._json(*_node_body(latest, parts[1], now))
            elif path == "/metrics":
                if latest.status is None:
                    self._send(503, "# no status read yet\n", metrics.CONTENT_TYPE)
                else:
                    self._send(200, metrics.render(latest.status), metrics.CONTENT_TYPE)
            elif path == "/":
                self._send(200, _page(latest), "text/html; charset=utf-8")
            else:
                self._json(404, {"reason": f"no such path {path}; try /health, "
                                 "/nodes/NAME/health, /metrics or /"})

        do_HEAD = do_GET  # noqa: N815 - load balancers probe with HEAD

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.info("%s %s", self.address_string(), format % args)

    return Handler


async def _refresh(inventory: Inventory, latest: Latest, accept_new: bool,
                   stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            # A fresh connection per read: a node that was down is tried again.
            async with ClusterConnection(inventory, accept_new_host_keys=accept_new) as cluster:
                latest.status = await gather_status(cluster)
            latest.error = None
        except GluuClusterError as exc:
            latest.error = str(exc)
            log.warning("status read failed: %s", exc)
        try:
            await asyncio.wait_for(stop.wait(), latest.interval)
        except TimeoutError:
            pass


def serve(inventory: Inventory, listen: str, interval: float, accept_new: bool,
          ready: threading.Event | None = None) -> None:
    host, port = parse_listen(listen)
    latest = Latest(interval)
    try:
        server = ThreadingHTTPServer((host, port), make_handler(latest))
    except OSError as exc:
        raise UsageError(f"cannot listen on {listen}: {exc.strerror}; choose another "
                         "--listen ADDRESS:PORT") from exc
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    click.echo(f"serving cluster {inventory.cluster} on http://{host}:{port}/ (/health, "
               f"/nodes/NAME/health, /metrics; read every {interval:g} s); stop with Ctrl-C",
               err=True)
    if ready is not None:
        ready.set()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        refresh = asyncio.create_task(_refresh(inventory, latest, accept_new, stop))
        await stop.wait()
        # A read may hang on a node that stopped answering: stop now, not after it.
        refresh.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresh

    try:
        asyncio.run(main())
    finally:
        server.shutdown()
        server.server_close()
