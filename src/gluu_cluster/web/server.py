"""Serve the latest ClusterStatus: a snapshot refreshed on an interval, never per request.

A load balancer asking every second costs nothing on the nodes: requests read the last
snapshot. The HTTP side is the standard library's threading server; the refresh loop is
asyncio in the main thread. A snapshot not renewed for three refresh cycles counts as unhealthy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import click

from ..connection import ClusterConnection
from ..errors import GluuClusterError, UsageError
from ..inventory import Inventory
from ..secrets import redactor
from ..status import ClusterStatus
from ..status.columns import row_dict, status_dict
from ..status.gather import gather_status
from ..status.history import HistoryFile, Summary, changes, history_path, parse_since, summarize
from . import metrics, page
from .alerts import Alerts

log = logging.getLogger(__name__)


@dataclass
class Latest:
    """The snapshot requests read (replaced whole, so readers need no lock)."""

    interval: float
    status: ClusterStatus | None = None
    error: str | None = None
    # The last hour's summaries, for the page (a tuple, replaced whole like the status).
    recent: tuple[Summary, ...] = ()
    history: HistoryFile | None = None

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
    stale = _stale_reason(latest, now)
    if stale:
        body["healthy"] = False
        body["reason"] = stale
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


def _stale_reason(latest: Latest, now: float) -> str | None:
    if latest.status is None:
        return latest.error
    if not latest.stale(now):
        return None
    age = round(now - latest.status.taken_at, 1)
    return f"status not refreshed for {age} s" + (f": {latest.error}" if latest.error else "")


def _page_view(latest: Latest, now: float) -> dict[str, Any]:
    return page.view(latest.status, latest.recent, now, latest.interval, _stale_reason(latest, now))


def _history_body(latest: Latest, query: str, now: float) -> tuple[int, dict[str, Any]]:
    params = urllib.parse.parse_qs(query)
    try:
        since = parse_since(params["since"][0], now) if "since" in params else now - 3600
    except UsageError as exc:
        return 400, {"reason": str(exc)}
    if latest.history is None:
        return 404, {"reason": "no history kept"}
    return 200, {"since": since, "summaries": [
        s.to_dict() for s in latest.history.read(since)]}


def make_handler(latest: Latest, alerts: Alerts | None = None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "gluu-cluster"

        def _send(self, code: int, body: str | bytes, content_type: str) -> None:
            data = body if isinstance(body, bytes) else redactor.scrub(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            # Everything the page uses comes from here; nothing inline runs.
            self.send_header("Content-Security-Policy", "default-src 'none'; script-src 'self'; "
                             "style-src 'self'; connect-src 'self'; img-src 'self'")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _json(self, code: int, body: dict[str, Any]) -> None:
            self._send(code, json.dumps(body, indent=2), "application/json")

        def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
            now = time.time()
            path, _, query = self.path.partition("?")
            path = path.rstrip("/") or "/"
            parts = path.strip("/").split("/")
            if path == "/health":
                self._json(*_health_body(latest, now))
            elif len(parts) == 3 and parts[0] == "nodes" and parts[2] == "health":
                self._json(*_node_body(latest, parts[1], now))
            elif path == "/metrics":
                if latest.status is None:
                    self._send(503, "# no status read yet\n", metrics.CONTENT_TYPE)
                else:
                    self._send(200, metrics.render(latest.status, alerts.counts() if alerts
                                                   else None), metrics.CONTENT_TYPE)
            elif path == "/":
                self._send(200, page.render(_page_view(latest, now)), "text/html; charset=utf-8")
            elif path == "/page.json":
                self._json(200, _page_view(latest, now))
            elif path == "/history":
                self._json(*_history_body(latest, query, now))
            elif len(parts) == 2 and parts[0] == "static" and (found := page.static_file(parts[1])):
                self._send(200, found[0], found[1])
            else:
                self._json(404, {"reason": f"no such path {path}; try /health, "
                                 "/nodes/NAME/health, /metrics, /history?since=, /page.json or /"})

        do_HEAD = do_GET  # noqa: N815 - load balancers probe with HEAD

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.info("%s %s", self.address_string(), format % args)

    return Handler


class Watch:
    """What happens after each snapshot: its summary is kept (file and the last hour) and
    compared with the one before; each change of state goes to the alert hooks once."""

    def __init__(self, inventory: Inventory, latest: Latest, alerts: Alerts) -> None:
        self.inventory = inventory
        self.latest = latest
        self.alerts = alerts
        kept = list(latest.history.read()) if latest.history is not None else []
        # The last summary kept survives a restart of serve: nothing is said twice.
        self.before = kept[-1] if kept else None
        keep_from = time.time() - page.HISTORY_MINUTES * 60
        latest.recent = tuple(s for s in kept if s.at >= keep_from)

    def snapshot(self, status: ClusterStatus) -> None:
        summary = summarize(status, self.inventory.certificates.warn_days)
        if self.latest.history is not None:
            try:
                self.latest.history.append(summary)
            except OSError as exc:
                log.warning("cannot write the history file %s: %s", self.latest.history.path,
                            exc.strerror)
        keep_from = summary.at - page.HISTORY_MINUTES * 60
        self.latest.recent = (*(s for s in self.latest.recent if s.at >= keep_from), summary)
        for event in changes(self.inventory.cluster, self.before, summary):
            log.info("%s %s: %s", event.kind, event.node or "cluster", event.detail)
            self.alerts.send(event.to_dict())
        self.before = summary


async def _refresh(inventory: Inventory, latest: Latest, accept_new: bool, watch: Watch,
                   stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            # A fresh connection per read: a node that was down is tried again.
            async with ClusterConnection(inventory, accept_new_host_keys=accept_new) as cluster:
                status = await gather_status(cluster)
            latest.status = status
            latest.error = None
            watch.snapshot(status)
        except GluuClusterError as exc:
            latest.error = str(exc)
            log.warning("status read failed: %s", exc)
        try:
            await asyncio.wait_for(stop.wait(), latest.interval)
        except TimeoutError:
            pass


def serve(inventory: Inventory, listen: str, interval: float, accept_new: bool,
          history_days: float = 7, ready: threading.Event | None = None) -> None:
    host, port = parse_listen(listen)
    history = HistoryFile(history_path(inventory), history_days) if history_days > 0 else None
    if history is not None:
        history.prune(time.time())
    latest = Latest(interval, history=history)
    alerts = Alerts.from_inventory(inventory)  # reads the URL's token, if any
    try:
        server = ThreadingHTTPServer((host, port), make_handler(latest, alerts))
    except OSError as exc:
        alerts.close(0)
        raise UsageError(f"cannot listen on {listen}: {exc.strerror}; choose another "
                         "--listen ADDRESS:PORT") from exc
    watch = Watch(inventory, latest, alerts)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    click.echo(f"serving cluster {inventory.cluster} on http://{host}:{port}/ (/health, "
               f"/nodes/NAME/health, /metrics, /history; read every {interval:g} s"
               + (f"; alerts to {', '.join(h.name for h in alerts.hooks)}" if alerts.hooks else "")
               + "); stop with Ctrl-C", err=True)
    if ready is not None:
        ready.set()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        refresh = asyncio.create_task(_refresh(inventory, latest, accept_new, watch, stop))
        await stop.wait()
        # A read may hang on a node that stopped answering: stop now, not after it.
        refresh.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresh
        # Fact reads are shielded from their reader's cancel, and their connections are now
        # closed under them: end them here, their errors expected, not at asyncio.run's exit
        # (which prints each one's traceback).
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    try:
        asyncio.run(main())
    finally:
        server.shutdown()
        server.server_close()
        alerts.close()
