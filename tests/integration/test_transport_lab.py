"""The SSH transport against real sshd: host keys, auth, unreachable and stalled nodes."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncssh
import pytest

from gluu_cluster.connection import ClusterConnection
from gluu_cluster.errors import (
    AuthRefusedError,
    CommandTimeoutError,
    HostKeyChangedError,
    HostKeyUnknownError,
    UnreachableError,
)
from gluu_cluster.inventory import Inventory, load_inventory
from gluu_cluster.lab.layout import LabLayout
from gluu_cluster.lab.proc import pids_in_mount_ns, read_pid
from tests.helpers import run_cli

from .conftest import RunningLab


def variant(lab: RunningLab, tmp_path: Path, **ssh: object) -> Inventory:
    """The lab inventory with some ssh settings replaced."""
    import yaml

    data = yaml.safe_load(lab.inventory_path.read_text())
    data["ssh"].update({k: (str(v) if isinstance(v, Path) else v) for k, v in ssh.items()})
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_inventory(path)


def run_on(inventory: Inventory, node: str, argv: list[str], **kw: object) -> str:
    async def go() -> str:
        async with ClusterConnection(inventory, accept_new_host_keys=bool(kw.pop("accept", False))) as c:
            return (await c.handle(node).host.run(argv, **kw)).out  # type: ignore[arg-type]

    return asyncio.run(go())


def test_commands_run_with_stdin_and_exit_codes(lab: RunningLab) -> None:
    async def go() -> tuple[str, int]:
        async with ClusterConnection(lab.inventory) as cluster:
            host = cluster.handle("node3").host
            echoed = await host.run(["cat"], stdin="through stdin; with 'quotes' and $vars\n")
            failed = await host.run(["sh", "-c", "exit 7"], check=False)
            return echoed.out, failed.exit_code

    out, code = asyncio.run(go())
    assert out == "through stdin; with 'quotes' and $vars\n"
    assert code == 7


def test_unknown_host_key_is_refused_unless_accept_new(lab: RunningLab, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    inventory = variant(lab, tmp_path, known_hosts=empty)
    with pytest.raises(HostKeyUnknownError) as info:
        run_on(inventory, "node1", ["true"])
    assert str(info.value).startswith("node1: host key of 127.0.1.11:22 is not in")
    assert "--accept-new-host-keys" in str(info.value)
    assert empty.read_text() == ""
    # The CLI says the same in one line, exit 1.
    result = run_cli(["plan", "-i", str(tmp_path / "cluster.yaml")])
    assert result.returncode == 1 and "host key of 127.0.1.1" in result.stderr
    # With the explicit flag the key is recorded, and then trusted without it.
    run_on(inventory, "node1", ["true"], accept=True)
    assert empty.read_text().startswith("127.0.1.11 ssh-ed25519 ")
    assert run_on(inventory, "node1", ["echo", "ok"]) == "ok\n"


def test_changed_host_key_is_refused_even_with_accept_new(lab: RunningLab, tmp_path: Path) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    known = tmp_path / "known_hosts"
    known.write_text(f"127.0.1.12 {impostor}\n")
    inventory = variant(lab, tmp_path, known_hosts=known)
    for accept in (False, True):
        with pytest.raises(HostKeyChangedError, match=r"^node2: host key of 127.0.1.12:22 changed"):
            run_on(inventory, "node2", ["true"], accept=accept)
    assert known.read_text() == f"127.0.1.12 {impostor}\n"


def test_wrong_client_key_gives_a_clear_error(lab: RunningLab, tmp_path: Path) -> None:
    wrong = tmp_path / "id_wrong"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(wrong))
    inventory = variant(lab, tmp_path, identity_file=wrong)
    with pytest.raises(AuthRefusedError) as info:
        run_on(inventory, "node1", ["true"])
    assert str(info.value) == (
        "node1: 127.0.1.11:22 refused SSH login as 'root'; check ssh.user and "
        "ssh.identity_file in the inventory and the node's authorized_keys"
    )


def test_unreachable_node_is_named(lab: RunningLab, tmp_path: Path) -> None:
    inventory = variant(lab, tmp_path, port=2)  # nothing listens on port 2
    with pytest.raises(UnreachableError, match=r"^node3: cannot connect to 127.0.1.13:2: "):
        run_on(inventory, "node3", ["true"])


@contextmanager
def stopped(pids: list[int]) -> Iterator[None]:
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass


def sshd_pids(lab: RunningLab, node: str) -> list[int]:
    layout = LabLayout(lab.dir)
    listener = read_pid(layout.dir / "nodes" / node / "run/sshd.pid")
    assert listener is not None
    others = [p for p in pids_in_mount_ns(layout.ns_file(node)) if _comm(p) == "sshd"]
    return sorted({listener, *others})


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def test_stalled_node_fails_within_connect_timeout(lab: RunningLab, tmp_path: Path) -> None:
    inventory = variant(lab, tmp_path, connect_timeout=2)
    with stopped(sshd_pids(lab, "node2")):
        started = time.monotonic()
        with pytest.raises(CommandTimeoutError) as info:
            run_on(inventory, "node2", ["true"])
        elapsed = time.monotonic() - started
    assert str(info.value).startswith("node2: no SSH answer from 127.0.1.12:22 within 2 s")
    assert elapsed < 2 + 3
    assert run_on(inventory, "node2", ["echo", "back"]) == "back\n"


def test_stalled_node_fails_within_command_timeout(lab: RunningLab) -> None:
    async def go() -> float:
        async with ClusterConnection(lab.inventory) as cluster:
            host = cluster.handle("node3").host
            assert (await host.run(["echo", "up"])).out == "up\n"
            with stopped(sshd_pids(lab, "node3")):
                started = time.monotonic()
                with pytest.raises(CommandTimeoutError, match=r"^node3: 'echo' did not finish within 2 s"):
                    await host.run(["echo", "stalled"], timeout=2)
                return time.monotonic() - started

    assert asyncio.run(go()) < 2 + 3


def test_parallel_commands_across_nodes(lab: RunningLab) -> None:
    async def go() -> tuple[list[str], float]:
        async with ClusterConnection(lab.inventory) as cluster:
            await cluster.each(lambda h: h.host.run(["true"]))  # connect first
            started = time.monotonic()
            results = await cluster.each(lambda h: h.host.run(["sh", "-c", "sleep 1; hostname -I >/dev/null; echo done"]))
            return [r.out for _h, r in results], time.monotonic() - started  # type: ignore[union-attr]

    outs, elapsed = asyncio.run(go())
    assert outs == ["done\n"] * 3
    # Three one-second commands in parallel, not in series.
    assert elapsed < 2.5


def test_port_forward_reaches_a_service_as_the_node_sees_it(lab: RunningLab) -> None:
    async def go() -> bytes:
        async with ClusterConnection(lab.inventory) as cluster:
            # node2's own sshd, reached through node1: what node1 sees at that address.
            async with cluster.handle("node1").host.forward_port("127.0.1.12", 22) as (host, port):
                reader, writer = await asyncio.open_connection(host, port)
                banner = await asyncio.wait_for(reader.readline(), 5)
                writer.close()
                return banner

    assert asyncio.run(go()).startswith(b"SSH-2.0-OpenSSH")


def test_local_transport_runs_on_this_machine(lab: RunningLab, tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(lab.inventory_path.read_text())
    data["nodes"].append({"name": "here", "address": "127.0.0.1", "connection": "local",
                          "container_root": "/"})
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(data))
    inventory = load_inventory(path)

    async def go() -> str:
        async with ClusterConnection(inventory) as cluster:
            handle = cluster.handle("here")
            assert handle.container is handle.host
            await handle.host.write_file(str(tmp_path / "local.txt"), "local\n", mode=0o600)
            return (await handle.host.run(["cat", str(tmp_path / "local.txt")])).out

    assert asyncio.run(go()) == "local\n"


def test_a_timed_out_command_leaves_its_siblings_and_the_connection(lab: RunningLab,
                                                                     tmp_path: Path) -> None:
    flag = f"/tmp/gluu-sibling-{os.getpid()}"

    async def go() -> tuple[str, str, int]:
        async with ClusterConnection(lab.inventory) as cluster:
            host = cluster.handle("node3").host
            # Waits on the same connection until told to finish (after the timeout below).
            sibling = asyncio.ensure_future(host.run(
                ["sh", "-c", 'while [ ! -e "$1" ]; do sleep 0.05; done; rm -f "$1"; echo ok',
                 "wait", flag], timeout=60))
            with pytest.raises(CommandTimeoutError, match="'sleep' did not finish within 1 s"):
                await host.run(["sleep", "300"], timeout=1)
            await host.run(["touch", flag])
            after = (await host.run(["echo", "still connected"])).out
            signalled = await host.run(["sh", "-c", "kill -TERM $$"], check=False)
            return (await sibling).out, after, signalled.exit_code

    sibling, after, code = asyncio.run(go())
    assert sibling == "ok\n" and after == "still connected\n"
    assert code == 128 + signal.SIGTERM  # the signal that ended it, not always 9
