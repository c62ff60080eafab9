"""Alert hooks: ``serve`` hands each change of state (status/history.py) to the hooks the
inventory's ``alerts:`` names, a command and/or an HTTP POST, like Patroni's callbacks.

Each hook has its own bounded queue and worker thread: the refresh loop only enqueues,
never waits on a slow receiver; a full queue drops its oldest event (and says so once per
burst). A failed delivery is tried again (1, 2, 4 ... s apart, at most 30 s) up to
``retries`` more times, then given up with one log line. A change is enqueued once; a
retry after a timeout may reach a receiver twice, so each event carries a stable ``id``.
"""

from __future__ import annotations

import json
import logging
import queue
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..inventory import AlertSettings, Inventory
from ..secrets import Secret, redactor

log = logging.getLogger(__name__)

Deliver = Callable[[bytes], None]  # raises HookFailed when the receiver did not take it


class HookFailed(Exception):
    pass


def command_hook(argv: list[str], timeout: float) -> Deliver:
    def deliver(body: bytes) -> None:
        try:
            result = subprocess.run(argv, input=body, capture_output=True, timeout=timeout,
                                    check=False)
        except subprocess.TimeoutExpired as exc:
            raise HookFailed(f"{argv[0]} did not finish in {timeout:g} s") from exc
        except OSError as exc:
            raise HookFailed(f"cannot run {argv[0]}: {exc.strerror}") from exc
        if result.returncode != 0:
            lines = result.stderr.decode(errors="replace").strip().splitlines()
            raise HookFailed(f"{argv[0]} exited {result.returncode}"
                             + (f": {lines[-1][:200]}" if lines else ""))
    return deliver


def http_hook(url: str, timeout: float, token: Secret | None) -> Deliver:
    def deliver(body: bytes) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": "gluu-cluster"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token.reveal()}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise HookFailed(f"{url} answered {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise HookFailed(f"{url}: {reason}") from exc
    return deliver


@dataclass
class Hook:
    name: str  # "command" | "url": what the log lines say
    deliver: Deliver
    retries: int
    size: int

    def __post_init__(self) -> None:
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue(self.size)
        self.dropped = 0
        self.delivered = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name=f"alert-{self.name}", daemon=True)
        self._thread.start()

    def put(self, event: dict[str, Any]) -> None:
        while True:
            try:
                self.queue.put_nowait(event)
                return
            except queue.Full:
                try:
                    self.queue.get_nowait()
                except queue.Empty:
                    continue
                self.dropped += 1
                log.warning("alert hook %s: queue full (%d events), the oldest dropped",
                            self.name, self.size)

    def _work(self) -> None:
        while True:
            event = self.queue.get()
            if event is None:
                return
            body = json.dumps(event).encode()
            for attempt in range(self.retries + 1):
                try:
                    self.deliver(body)
                    self.delivered += 1
                    break
                except HookFailed as exc:
                    last = redactor.scrub(str(exc))
                    if attempt == self.retries or self._stop.wait(min(30.0, 2.0 ** attempt)):
                        log.warning("alert hook %s: event %s not delivered after %d tries: %s",
                                    self.name, event["kind"], attempt + 1, last)
                        self.failed += 1
                        break

    def close(self, wait: float) -> None:
        """Let the queue drain for up to ``wait`` seconds, then stop."""
        try:
            self.queue.put(None, timeout=wait)
        except queue.Full:
            pass
        self._thread.join(wait)
        self._stop.set()


class Alerts:
    """The hooks of one ``serve``; an inventory without ``alerts:`` gives none."""

    def __init__(self, hooks: list[Hook]) -> None:
        self.hooks = hooks

    @staticmethod
    def from_inventory(inventory: Inventory) -> Alerts:
        settings: AlertSettings = inventory.alerts
        hooks = []
        if settings.command:
            hooks.append(Hook("command", command_hook(list(settings.command), settings.timeout),
                              settings.retries, settings.queue))
        if settings.url:
            token = settings.token.resolve(inventory.base_dir) if settings.token else None
            hooks.append(Hook("url", http_hook(settings.url, settings.timeout, token),
                              settings.retries, settings.queue))
        return Alerts(hooks)

    def send(self, event: dict[str, Any]) -> None:
        for hook in self.hooks:
            hook.put(event)

    def counts(self) -> dict[tuple[str, str], int]:
        """For /metrics: each hook's events by outcome."""
        return {(h.name, outcome): count for h in self.hooks for outcome, count in
                (("delivered", h.delivered), ("failed", h.failed), ("dropped", h.dropped))}

    def close(self, wait: float = 5.0) -> None:
        for hook in self.hooks:
            hook.close(wait)
