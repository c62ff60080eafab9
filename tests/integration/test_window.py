"""The operator's window against a real lab with a balancer and a cache in front: the page
in real headless Chromium, the alert hooks (a command, and an HTTP listener on loopback),
the kept history and the monitoring-plugin mode, while a node is stopped and started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from gluu_cluster.lab.manager import Lab
from gluu_cluster.status.columns import COLUMNS, SERVICE_HEADERS
from tests.browser import Browser, chromium_path
from tests.helpers import eventually, run_cli

from .conftest import RunningLab, running_lab

BASE = "127.0.24.11"
LISTEN = "127.0.24.200:8990"
HOOKS = "127.0.24.201"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    with running_lab(tmp_path_factory, BASE, nodes=2, entries=50, front=True) as running:
        applied = run_cli(["apply", "-i", str(running.inventory_path), "--yes"])
        assert applied.returncode == 0, applied.stderr + applied.stdout
        yield running


class Received:
    """A loopback listener that keeps every POSTed event."""

    def __init__(self) -> None:
        self.events: list[dict[str, object]] = []
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.events.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((HOOKS, 0), Handler)
        self.url = f"http://{HOOKS}:{self.server.server_port}/gluu-events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def with_alerts(lab: RunningLab, tmp: Path, url: str) -> tuple[Path, Path]:
    """The lab's inventory plus a command hook (appends each event to a file) and the URL."""
    events = tmp / "command-events.jsonl"
    hook = tmp / "hook.py"
    hook.write_text("import sys\nwith open(sys.argv[1], 'a') as out:\n"
                    "    out.write(sys.stdin.read().strip() + '\\n')\n")
    data = yaml.safe_load(lab.inventory_path.read_text())
    data["alerts"] = {"command": [sys.executable, str(hook), str(events)], "url": url,
                      "retries": 2, "timeout": 5}
    inventory = lab.dir / "with-alerts.yaml"
    inventory.write_text(yaml.safe_dump(data))
    return inventory, events


def kinds(events: list[dict[str, object]], node: str | None) -> list[str]:
    return [str(e["kind"]) for e in events
            if e["node"] == node and e["kind"] != "problem"]


def page_state(browser: Browser) -> dict[str, object]:
    return dict(browser.js("""(() => ({
        verdict: document.getElementById('verdict-text').textContent,
        tone: document.getElementById('verdict').dataset.tone,
        headers: [...document.querySelectorAll('#nodes thead th')].map(t => t.textContent),
        rows: Object.fromEntries([...document.querySelectorAll('#nodes tbody tr')].map(tr =>
            [tr.dataset.key, [...tr.children].map(td => [td.textContent, td.dataset.tone])])),
        services: [...document.querySelectorAll('#services tbody tr')].map(tr => tr.dataset.key),
        serviceHeaders: [...document.querySelectorAll('#services thead th')].map(t => t.textContent),
        problems: [...document.querySelectorAll('#problems .group')].map(g =>
            [g.dataset.code, [...g.querySelectorAll('li')].map(li => li.dataset.node)]),
        history: [...document.querySelectorAll('#history .hist')].map(h => h.dataset.key),
        updates: Number(document.body.dataset.updates),
        kept: window.__kept === 1,
    }))()"""))


def cell(state: dict[str, object], node: str, header: str) -> tuple[str, str]:
    rows = state["rows"]
    assert isinstance(rows, dict) and node in rows, state
    index = [c.header for c in COLUMNS].index(header)
    text, tone = rows[node][index]
    return text, tone


def test_page_hooks_history_and_plugin_follow_a_node_stopped_and_started(
        lab: RunningLab, tmp_path: Path) -> None:
    if chromium_path() is None:
        pytest.fail("chromium is not installed: scripts/install.sh --dev installs it")
    listener = Received()
    inventory, command_events = with_alerts(lab, tmp_path, listener.url)
    serve = subprocess.Popen(
        [sys.executable, "-m", "gluu_cluster.cli.main", "serve", "-i", str(inventory),
         "--listen", LISTEN, "--interval", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONASYNCIODEBUG": os.environ.get("PYTHONASYNCIODEBUG", "")})
    browser = Browser(tmp_path / "chromium")
    url = f"http://{LISTEN}/"
    try:
        def page_json() -> dict[str, object]:
            try:
                with urllib.request.urlopen(url + "page.json", timeout=5) as response:
                    return dict(json.load(response))
            except OSError:
                return {}

        eventually(lambda: page_json().get("verdict", {}).get("tone") == "good",  # type: ignore[union-attr]
                   "serve's first converged read", 120)
        browser.open(url)
        state = page_state(browser)
        assert state["verdict"] == "converged" and state["tone"] == "good", state
        assert state["headers"] == [c.header for c in COLUMNS]
        assert cell(state, "node1", "node") == ("node1 *", "plain")
        assert cell(state, "node2", "replication") == ("in sync", "good")
        assert cell(state, "node2", "file sync") == ("in sync", "good")
        assert state["serviceHeaders"] == list(SERVICE_HEADERS)
        assert sorted(state["services"]) == ["cache", "front"], state  # type: ignore[arg-type]
        assert state["history"] == ["cluster", "node1", "node2"]
        browser.js("window.__kept = 1")  # gone if the page reloads
        browser.screenshot(tmp_path / "page-converged.png")

        Lab(lab.dir).halt("node2", hard=False)

        def node2_shown_down() -> dict[str, object] | None:
            now = page_state(browser)
            ok = (cell(now, "node2", "LDAP role") == ("unreachable", "bad")
                  and now["tone"] == "bad" and str(now["verdict"]).startswith("not converged"))
            return now if ok else None

        eventually(lambda: node2_shown_down() is not None, "node2 down, in red and in words", 90)
        down = page_state(browser)
        assert down["kept"] and int(down["updates"]) > 0, "the page reloaded instead of updating"  # type: ignore[call-overload]
        assert ["NODE-UNREACHABLE", ["node2"]] in down["problems"], down["problems"]  # type: ignore[operator]
        codes = [code for code, _ in down["problems"]]  # type: ignore[attr-defined]
        assert len(codes) == len(set(codes)), "a problem code listed twice"
        assert cell(down, "node1", "replication")[1] in ("bad", "warn")
        browser.screenshot(tmp_path / "page-node2-down.png")

        plugin = run_cli(["status", "--check", "-i", str(lab.inventory_path)])
        assert plugin.returncode == 2, plugin.stdout + plugin.stderr
        line = plugin.stdout.strip()
        assert line.startswith("GLUU-CLUSTER CRITICAL - ") and "NODE-UNREACHABLE node2" in line
        assert "lag_node2=U" in line and "| " in line and len(plugin.stdout.splitlines()) == 1

        Lab(lab.dir).boot("node2")

        def converged_again() -> bool:
            now = page_state(browser)
            return now["tone"] == "good" and cell(now, "node2", "replication") == ("in sync", "good")

        eventually(converged_again, "the cluster converged again, in green", 180)
        assert page_state(browser)["kept"], "the page reloaded instead of updating"
        browser.screenshot(tmp_path / "page-node2-back.png")

        # Scripts off: the server's own HTML shows the same table.
        browser.call("Emulation.setScriptExecutionDisabled", session=True, value=True)
        browser.open(url + "?noscript")
        off = page_state(browser)
        assert off["verdict"] == "converged" and set(off["rows"]) == {"node1", "node2"}  # type: ignore[arg-type]
        assert off["updates"] == 0

        def delivered() -> bool:
            lines = command_events.read_text().splitlines() if command_events.exists() else []
            return (kinds([json.loads(x) for x in lines], "node2")[-1:] == ["node-healthy"]
                    and kinds(listener.events, "node2")[-1:] == ["node-healthy"])

        eventually(delivered, "the node-healthy event at both hooks", 60)
        with urllib.request.urlopen(url + "metrics", timeout=10) as response:
            metrics = response.read().decode()
        assert 'gluu_cluster_alert_events_total{hook="url",outcome="delivered"} ' in metrics
        assert 'gluu_cluster_alert_events_total{hook="command",outcome="failed"} 0' in metrics
        with urllib.request.urlopen(url + "history?since=15m", timeout=10) as response:
            kept = json.load(response)["summaries"]
        assert any(not s["nodes"]["node2"]["healthy"] for s in kept)
        assert kept[-1]["healthy"]
    finally:
        browser.close()
        serve.send_signal(signal.SIGTERM)  # its hooks' queues drain before it exits
        _, err = serve.communicate(timeout=60)
        listener.close()
    assert serve.returncode == 0, err
    assert "Traceback" not in err, err

    history = run_cli(["status", "--history", "--since", "15m", "-i", str(inventory)])
    assert history.returncode == 0, history.stderr
    out = history.stdout
    assert out.index("node-unhealthy  node2") < out.index("node-healthy  node2"), out
    assert "now (" in out and "healthy" in out.splitlines()[-1]
    recorded = run_cli(["status", "--history", "--since", "15m", "--format", "json",
                        "-i", str(inventory)])
    changed = [(t["kind"], t["node"], t["at"]) for t in json.loads(recorded.stdout)["transitions"]]
    by_command = [json.loads(x) for x in command_events.read_text().splitlines()]
    for received in (by_command, listener.events):
        # Exactly one event per transition serve recorded (a flap after the restart would
        # be two more transitions, and two more events), in order, each once.
        assert [(e["kind"], e["node"], e["at"]) for e in received
                if e["kind"] != "problem"] == changed, (received, changed)
        assert kinds(received, "node2")[:1] == ["node-unhealthy"], received
        assert kinds(received, None)[:1] == ["cluster-unhealthy"], received
        problems = [(str(e["detail"]).split(":")[0], e["node"]) for e in received
                    if e["kind"] == "problem"]
        assert ("NODE-UNREACHABLE", "node2") in problems
        assert len({e["id"] for e in received}) == len(received)
    assert [e["id"] for e in by_command] == [e["id"] for e in listener.events]
