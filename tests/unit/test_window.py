"""The operator's window, pure parts and local processes: history and its changes of state,
the monitoring-plugin line, the page's view, the alert hooks (a real command and a real
HTTP listener on loopback)."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import sys
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gluu_cluster.errors import UsageError
from gluu_cluster.inventory import load_inventory
from gluu_cluster.problems import Problem
from gluu_cluster.secrets import secret_from
from gluu_cluster.status import ClusterStatus
from gluu_cluster.status.gather import DOWN_CODES, LINK_CODES, gather_status
from gluu_cluster.status.history import (
    EventKind,
    HistoryFile,
    Summary,
    changes,
    parse_since,
    summarize,
    transitions,
)
from gluu_cluster.status.plugin import PluginState, Thresholds, check
from gluu_cluster.status.snapshot import CertExpiry, NodeRow
from gluu_cluster.web import metrics, page
from gluu_cluster.web.alerts import Alerts, Hook, HookFailed, command_hook, http_hook
from gluu_cluster.web.server import Latest, Watch
from tests.helpers import eventually, run_cli
from tests.unit.recorded import recorded_cluster


def recorded(name: str, tmp_path: Path) -> ClusterStatus:
    return asyncio.run(gather_status(recorded_cluster(name, tmp_path)))


def down(status: ClusterStatus, node: str, at: float) -> ClusterStatus:
    """The same cluster with ``node`` not answering, read ``at``."""
    rows = tuple(NodeRow(r.node, r.address, r.primary, reachable=False) if r.node == node else r
                 for r in status.nodes)
    lost = Problem("NODE-UNREACHABLE", "error", node, "connection refused", "check it")
    return replace(status, taken_at=at, nodes=rows, problems=(*status.problems, lost),
                   link_codes=LINK_CODES, down_codes=DOWN_CODES)


# --- history and changes of state ---------------------------------------------------


def test_a_node_down_and_back_is_one_event_per_transition(tmp_path: Path) -> None:
    good = recorded("converged", tmp_path)
    at = good.taken_at
    reads = [good, down(good, "node2", at + 1), down(good, "node2", at + 2),
             replace(good, taken_at=at + 3)]
    summaries = [summarize(s, warn_days=30) for s in reads]
    assert changes("c", None, summaries[0]) == []  # healthy at first: nothing to say
    went = changes("c", summaries[0], summaries[1])
    assert [(e.kind, e.node) for e in went] == [
        (EventKind.CLUSTER_UNHEALTHY, None), (EventKind.NODE_UNHEALTHY, "node2"),
        (EventKind.PROBLEM, "node2")]
    assert went[1].detail == "unreachable" and went[2].detail.startswith("NODE-UNREACHABLE: error")
    assert "NODE-UNREACHABLE node2" in went[0].detail
    assert changes("c", summaries[1], summaries[2]) == []  # still down: said once
    back = changes("c", summaries[2], summaries[3])
    assert [(e.kind, e.node) for e in back] == [(EventKind.CLUSTER_HEALTHY, None),
                                                (EventKind.NODE_HEALTHY, "node2")]
    assert [(e.kind, e.node) for e in transitions("c", summaries)] == [
        (EventKind.CLUSTER_UNHEALTHY, None), (EventKind.NODE_UNHEALTHY, "node2"),
        (EventKind.CLUSTER_HEALTHY, None), (EventKind.NODE_HEALTHY, "node2")]
    # A first read of a cluster already broken says what is wrong.
    first = changes("c", None, summaries[1])
    assert {e.kind for e in first} == {EventKind.CLUSTER_UNHEALTHY, EventKind.NODE_UNHEALTHY,
                                       EventKind.PROBLEM}


def test_a_drain_is_no_alert_and_a_certificate_entering_the_window_is_one(tmp_path: Path) -> None:
    front = recorded("front", tmp_path)  # node2 drained: a warning
    summary = summarize(front, warn_days=30)
    assert summary.healthy and all(n.healthy for n in summary.nodes.values())
    assert summary.problems == ("BALANCER-NODE-DRAINED node2",)
    far = replace(front, expiries=(CertExpiry("node1", "gluu", "/etc/certs/httpd.crt", 40),))
    near = replace(far, taken_at=far.taken_at + 1,
                   expiries=(CertExpiry("node1", "gluu", "/etc/certs/httpd.crt", 29),))
    events = changes("c", summarize(far, 30), summarize(near, 30))
    assert [(e.kind, e.node) for e in events] == [(EventKind.CERTIFICATE_EXPIRING, "node1")]
    assert "httpd.crt" in events[0].detail
    assert changes("c", summarize(near, 30), summarize(replace(near, taken_at=near.taken_at + 1),
                                                       30)) == []


def test_the_history_file_is_private_keeps_its_days_and_skips_a_cut_line(tmp_path: Path) -> None:
    path = tmp_path / "state" / "c.history.jsonl"
    history = HistoryFile(path, days=2)
    day = 86400.0
    for at in (1000.0, 1000.0 + day / 2, 1000.0 + day * 1.5):
        history.append(Summary(at, True, {}))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [s.at for s in history.read()] == [1000.0, 1000.0 + day / 2, 1000.0 + day * 1.5]
    with path.open("a") as out:
        out.write('{"at": 99999999, "heal')  # a crash in the middle of a line
    assert [s.at for s in history.read(since=1000.0 + day)] == [1000.0 + day * 1.5]
    # Kept one day: the two older ones and the cut line go.
    assert HistoryFile(path, days=1).prune(1000.0 + day * 1.6) == 3
    assert [s.at for s in history.read()] == [1000.0 + day * 1.5]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [s.at for s in history.read()][-1] == 1000.0 + day * 1.5


def test_since_is_an_epoch_an_iso_time_or_an_age() -> None:
    now = 1_800_000_000.0
    assert parse_since("30m", now) == now - 1800
    assert parse_since("2d", now) == now - 2 * 86400
    assert parse_since("1700000000", now) == 1_700_000_000.0
    assert parse_since("2026-11-30T07:00:00Z", now) == parse_since("2026-11-30T07:00:00+00:00", now)
    with pytest.raises(UsageError, match="give epoch seconds"):
        parse_since("yesterday", now)


def test_a_restarted_serve_does_not_repeat_what_it_said(tmp_path: Path) -> None:
    good = recorded("converged", tmp_path / "a")
    inventory = load_inventory(tmp_path / "a" / "converged" / "cluster.yaml")
    sent: list[dict[str, Any]] = []

    class Captured(Alerts):
        def send(self, event: dict[str, Any]) -> None:
            sent.append(event)

    history = HistoryFile(tmp_path / "h.jsonl", days=7)
    watch = Watch(inventory, Latest(5, history=history), Captured([]))
    watch.snapshot(down(good, "node2", good.taken_at + 1))
    assert [e["kind"] for e in sent if e["kind"] != "problem"] == ["cluster-unhealthy",
                                                                  "node-unhealthy"]
    again = Watch(inventory, Latest(5, history=history), Captured([]))  # serve restarted
    again.snapshot(down(good, "node2", good.taken_at + 2))
    assert len(sent) == 3
    again.snapshot(replace(good, taken_at=good.taken_at + 3))
    assert [e["kind"] for e in sent[3:]] == ["cluster-healthy", "node-healthy"]
    assert len(again.latest.recent) == 3  # the last hour, for the page, read back too


# --- monitoring-plugin mode -----------------------------------------------------------


def test_plugin_states_from_recorded_and_changed_snapshots(tmp_path: Path) -> None:
    good = recorded("converged", tmp_path / "c")
    state, line = check(good, Thresholds())
    assert state is PluginState.OK and line.startswith("GLUU-CLUSTER OK - cluster gluu-lab: 3 nodes")
    text, _, perf = line.partition(" | ")
    assert "lag_node1=0s;10;60;0" in perf.split() and "dirty_node3=0;5;50;0" in perf.split()
    assert "nodes_healthy=3;;;0;3" in perf.split() and "cert_days_node2=" in perf

    state, line = check(recorded("front", tmp_path / "f"), Thresholds())
    assert state is PluginState.WARNING and "BALANCER-NODE-DRAINED node2" in line

    state, line = check(down(good, "node2", good.taken_at), Thresholds())
    assert state is PluginState.CRITICAL and "NODE-UNREACHABLE node2" in line
    assert "lag_node2=U;" in line and "nodes_healthy=2;" in line

    lagging = replace(good, nodes=tuple(replace(r, lag_seconds=12.5) if r.node == "node3" else r
                                        for r in good.nodes))
    assert check(lagging, Thresholds())[0] is PluginState.WARNING
    assert "node3 lag 12.5 s" in check(lagging, Thresholds())[1]
    assert check(lagging, Thresholds(crit_lag=12))[0] is PluginState.CRITICAL
    dirty = replace(good, nodes=tuple(replace(r, dirty=60) for r in good.nodes))
    assert check(dirty, Thresholds())[0] is PluginState.CRITICAL
    soon = replace(good, expiries=(CertExpiry("node1", "gluu", "/etc/certs/a.crt", 5),))
    state, line = check(soon, Thresholds())
    assert state is PluginState.CRITICAL and "cert_days_node1=5;30:;7:" in line
    assert len(line.splitlines()) == 1


def test_plugin_unknown_when_the_cluster_cannot_be_read(tmp_path: Path) -> None:
    missing = run_cli(["status", "--check", "-i", str(tmp_path / "nowhere.yaml")])
    assert missing.returncode == 3 and missing.stdout.startswith("GLUU-CLUSTER UNKNOWN - ")
    assert len(missing.stdout.splitlines()) == 1 and "Traceback" not in missing.stderr
    upside_down = run_cli(["status", "--check", "--warn-lag", "90", "-i", "x.yaml"])
    assert upside_down.returncode == 3 and "--warn-lag <= --crit-lag" in upside_down.stdout


# --- the page's view ------------------------------------------------------------------


def test_problems_are_grouped_by_code_each_node_once(tmp_path: Path) -> None:
    good = recorded("converged", tmp_path)
    twice = Problem("SYNC-DIRTY", "error", "node1", "3 files dirty", "wait")
    status = replace(good, problems=(
        Problem("CERT-EXPIRING", "warning", "node2", "a.crt expires in 20 days", "rotate"),
        twice, twice, Problem("SYNC-DIRTY", "error", "node3", "1 file dirty", "wait"),
        Problem("SYNC-DIRTY", "error", "node1", "<b>x</b>", "wait")))
    view = page.view(status, (), good.taken_at, 10)
    groups = [(g["code"], [(i["node"], i["detail"]) for i in g["items"]]) for g in view["problems"]]
    assert groups == [("SYNC-DIRTY", [("node1", "3 files dirty; <b>x</b>"), ("node3", "1 file dirty")]),
                      ("CERT-EXPIRING", [("node2", "a.crt expires in 20 days")])]
    html = page.render(view)
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert html.count('data-code="SYNC-DIRTY"') == 1
    assert 'id="verdict" class="banner bad" data-tone="bad"' in html
    assert "not converged: 4 error(s), 1 warning(s)" in html  # words as well as colour
    assert '<meta http-equiv="refresh"' in html.split("<noscript>")[1]  # only without scripts


def test_the_page_shows_the_services_and_an_hour_of_history(tmp_path: Path) -> None:
    front = recorded("front", tmp_path)
    now = front.taken_at
    good = summarize(front, 30)
    bad = summarize(down(front, "node2", now - 600), 30)
    recent = [replace(good, at=now - 1800), bad, replace(good, at=now)]
    view = page.view(front, recent, now, 10)
    assert [r["key"] for r in view["services"]["rows"]] == ["cache", "front"]
    rows = {r["node"]: r for r in view["history"]}
    assert list(rows) == ["cluster", "node1", "node2"]
    node2 = rows["node2"]
    assert len(node2["blocks"]) == page.HISTORY_MINUTES
    assert [b["tone"] for b in node2["blocks"] if b["tone"] != "none"] == ["good", "bad", "good"]
    assert node2["summary"].startswith("healthy 2 of 3 min")
    assert "NOT healthy" in node2["blocks"][50]["title"]
    html = page.render(view)
    assert 'id="services-section" hidden' not in html and "127.0.30.13" in html
    assert json.loads(json.dumps(view)) == view  # /page.json is the same data
    stale = page.view(front, recent, now + 500, 10, stale="status not refreshed for 500 s")
    assert stale["verdict"] == {"text": "not up to date: status not refreshed for 500 s",
                                "tone": "bad"}
    assert page.static_file("page.js") is not None and page.static_file("../x") is None
    first = page.view(None, (), now, 10)  # serve's first read still running
    assert first["verdict"]["tone"] == "plain" and "reading" in page.render(first)
    failed = page.view(None, (), now, 10, stale="node1: cannot connect")
    assert failed["verdict"] == {"text": "no status yet: node1: cannot connect", "tone": "bad"}


# --- alert hooks ----------------------------------------------------------------------


def test_a_command_hook_gets_the_event_on_stdin_and_is_retried(tmp_path: Path) -> None:
    out = tmp_path / "got.jsonl"
    script = tmp_path / "hook.py"
    # Fails the first time (no marker yet), then takes the event.
    script.write_text(
        "import sys, pathlib\nmark = pathlib.Path(sys.argv[2])\n"
        "if not mark.exists():\n    mark.touch()\n    sys.exit('receiver busy')\n"
        "open(sys.argv[1], 'a').write(sys.stdin.read() + '\\n')\n")
    argv = [sys.executable, str(script), str(out), str(tmp_path / "mark")]
    hook = Hook("command", command_hook(argv, timeout=10), retries=2, size=10)
    hook.put({"kind": "node-unhealthy", "id": "x1"})
    eventually(lambda: hook.delivered == 1, "the event delivered on the second try", 20)
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["x1"]
    hook.close(5)
    with pytest.raises(HookFailed, match="exited 1: receiver busy"):
        (tmp_path / "mark").unlink()
        command_hook(argv, timeout=10)(b"{}")


def test_an_http_hook_is_retried_and_sends_its_token_only_in_the_header(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[int, str | None, dict[str, Any]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            code = 503 if not seen else 204
            seen.append((code, self.headers.get("Authorization"), body))
            self.send_response(code)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = secret_from("test", "s3cr3t-token-value")
    try:
        with caplog.at_level(logging.INFO):
            hook = Hook("url", http_hook(f"http://127.0.0.1:{server.server_port}/h", 5, token),
                        retries=3, size=10)
            hook.put({"kind": "cluster-unhealthy", "id": "e1"})
            eventually(lambda: hook.delivered == 1, "delivered after one 503", 20)
            hook.close(5)
        assert [(c, a, b["id"]) for c, a, b in seen] == [
            (503, "Bearer s3cr3t-token-value", "e1"), (204, "Bearer s3cr3t-token-value", "e1")]
        assert "s3cr3t" not in caplog.text
        nobody = Hook("url", http_hook(f"http://127.0.0.1:{server.server_port + 1 or 1}/", 2,
                                       None), retries=1, size=10)
        with caplog.at_level(logging.WARNING):
            nobody.put({"kind": "problem", "id": "e2"})
            eventually(lambda: nobody.failed == 1, "given up after 2 tries", 20)
        assert "event problem not delivered after 2 tries" in caplog.text
        nobody.close(1)
    finally:
        server.shutdown()
        server.server_close()


def test_hook_outcomes_are_counters_in_metrics(tmp_path: Path) -> None:
    text = metrics.render(recorded("converged", tmp_path),
                          Alerts([]).counts() | {("url", "delivered"): 3, ("url", "dropped"): 1})
    assert "# TYPE gluu_cluster_alert_events_total counter" in text
    assert 'gluu_cluster_alert_events_total{hook="url",outcome="delivered"} 3' in text
    assert text.count("# HELP gluu_cluster_alert_events_total") == 1


def test_a_stuck_receiver_never_blocks_and_the_queue_keeps_the_newest() -> None:
    release = threading.Event()
    taken: list[bytes] = []

    def stuck(body: bytes) -> None:
        release.wait(20)
        taken.append(body)

    hook = Hook("command", stuck, retries=0, size=2)
    for i in range(6):  # returns at once although the receiver holds the first
        hook.put({"kind": "problem", "id": f"e{i}"})
    assert hook.dropped >= 3
    release.set()
    eventually(lambda: len(taken) == 6 - hook.dropped, "the kept events delivered", 20)
    assert json.loads(taken[-1])["id"] == "e5"
    hook.close(5)


@pytest.mark.parametrize(("alerts", "message"), [
    ("{command: [page-oncall]}", "cluster.yaml:4 alerts.command: 'page-oncall' must be an absolute path"),
    ("{url: 'ftp://x'}", "is not an http:// or https:// URL"),
    ("{command: [/bin/true], token: {env: T}}", "'token' is sent to 'url'"),
    ("{url: 'https://x.example/h', retries: 99}", "alerts.retries"),
])
def test_a_wrong_alerts_section_names_its_key(tmp_path: Path, alerts: str, message: str) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text("cluster: c\nnodes:\n  - {name: n1, address: 10.0.0.1}\n"
                    f"alerts: {alerts}\n")
    checked = run_cli(["validate", "-i", str(path)])
    assert checked.returncode == 2 and message in checked.stderr, checked.stderr
    assert len(checked.stderr.strip().splitlines()) == 1 and "Traceback" not in checked.stderr
