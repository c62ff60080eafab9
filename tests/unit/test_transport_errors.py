"""Transport failures become one-line errors naming the node and what to do."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from gluu_cluster.errors import (
    AuthRefusedError,
    CommandFailedError,
    CommandTimeoutError,
    HostKeyChangedError,
    HostKeyUnknownError,
    UnreachableError,
)
from gluu_cluster.transport import ssh as ssh_module
from gluu_cluster.transport.fake import FakeTransport
from gluu_cluster.transport.local import LocalTransport
from gluu_cluster.transport.ssh import SSHTarget, SSHTransport, _HostKeyChecker


def target(tmp_path: Path, accept_new: bool = False) -> SSHTarget:
    identity = tmp_path / "id"
    identity.write_text("not used: create_connection is replaced")
    return SSHTarget("idp2", "192.0.2.2", 22, "root", identity, tmp_path / "known_hosts",
                     1.0, 5.0, accept_new)


def failing_connect(exc: BaseException, checker_verdict: str | None = None) -> Any:
    async def fake(factory: Any, *args: Any, **kwargs: Any) -> Any:
        client = factory()
        client.verdict = checker_verdict
        raise exc

    return fake


@pytest.mark.parametrize(
    ("exc", "verdict", "error", "text"),
    [
        (asyncssh.PermissionDenied("denied"), None, AuthRefusedError,
         "idp2: 192.0.2.2:22 refused SSH login as 'root'; check ssh.user and ssh.identity_file"),
        (ConnectionRefusedError(111, "Connection refused"), None, UnreachableError,
         "idp2: cannot connect to 192.0.2.2:22: Connection refused; check that the node is up"),
        (TimeoutError(), None, CommandTimeoutError,
         "idp2: no SSH answer from 192.0.2.2:22 within 1 s; the node or its sshd is stalled"),
        (asyncssh.HostKeyNotVerifiable("not trusted"), "unknown", HostKeyUnknownError,
         "idp2: host key of 192.0.2.2:22 is not in"),
        (asyncssh.HostKeyNotVerifiable("not trusted"), "changed", HostKeyChangedError,
         "idp2: host key of 192.0.2.2:22 changed; the node's host key differs"),
        (asyncssh.ConnectionLost("lost"), None, CommandTimeoutError, "idp2: no SSH answer"),
    ],
)
def test_ssh_connect_errors_are_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException, verdict: str | None,
    error: type[Exception], text: str,
) -> None:
    monkeypatch.setattr(ssh_module.asyncssh, "create_connection", failing_connect(exc, verdict))
    transport = SSHTransport(target(tmp_path))
    with pytest.raises(error) as info:
        asyncio.run(transport.run(["true"]))
    assert str(info.value).startswith(text)
    assert "\n" not in str(info.value)


def test_missing_identity_file_is_named(tmp_path: Path) -> None:
    t = target(tmp_path)
    t.identity_file.unlink()  # type: ignore[union-attr]
    with pytest.raises(AuthRefusedError, match=r"^idp2: identity file .*/id does not exist"):
        asyncio.run(SSHTransport(t).run(["true"]))


def _key_line(host: str) -> tuple[asyncssh.SSHKey, str]:
    key = asyncssh.generate_private_key("ssh-ed25519")
    return key, f"{host} {key.export_public_key().decode().strip()}\n"


def test_host_key_checker_tells_unknown_from_changed(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    key, line = _key_line("192.0.2.2")
    other, _ = _key_line("192.0.2.2")
    known.write_text(line)
    checker = _HostKeyChecker(target(tmp_path))
    assert not checker.validate_host_public_key("192.0.2.2", "192.0.2.2", 22, other.convert_to_public())
    assert checker.verdict == "changed"
    checker = _HostKeyChecker(target(tmp_path))
    assert not checker.validate_host_public_key("192.0.2.9", "192.0.2.9", 22, other.convert_to_public())
    assert checker.verdict == "unknown"


def test_accept_new_records_unknown_keys_only(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    key, line = _key_line("192.0.2.2")
    known.write_text(line)
    checker = _HostKeyChecker(target(tmp_path, accept_new=True))
    new, _ = _key_line("192.0.2.9")
    assert checker.validate_host_public_key("192.0.2.9", "192.0.2.9", 22, new.convert_to_public())
    assert checker.verdict == "accepted"
    assert known.read_text().count("\n") == 2 and "192.0.2.9 ssh-ed25519" in known.read_text()
    # A changed key is refused even with accept-new.
    other, _ = _key_line("192.0.2.2")
    assert not checker.validate_host_public_key("192.0.2.2", "192.0.2.2", 22, other.convert_to_public())
    assert checker.verdict == "changed"


def test_local_command_timeout_kills_and_names_the_node() -> None:
    transport = LocalTransport("local-node")
    started = time.monotonic()
    with pytest.raises(CommandTimeoutError, match=r"^local-node: 'sleep' did not finish within 0.5 s"):
        asyncio.run(transport.run(["sleep", "30"], timeout=0.5))
    assert time.monotonic() - started < 5


def test_local_missing_program() -> None:
    with pytest.raises(UnreachableError, match="'no-such-program-xyz' is not installed"):
        asyncio.run(LocalTransport("n").run(["no-such-program-xyz"]))


def test_local_files_are_atomic_with_mode(tmp_path: Path) -> None:
    transport = LocalTransport("n")
    target_file = tmp_path / "sub" / "f.txt"
    asyncio.run(transport.write_file(str(target_file), "secret-ish\n", mode=0o600))
    assert target_file.read_text() == "secret-ish\n"
    assert target_file.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target_file.parent.iterdir()] == ["f.txt"]
    assert asyncio.run(transport.read_file(str(target_file))) == b"secret-ish\n"
    assert asyncio.run(transport.read_file(str(tmp_path / "missing"))) is None


def test_failed_command_is_named_with_its_error_line() -> None:
    fake = FakeTransport(node="idp1")
    fake.answer(["slapcat"], "", exit_code=1)
    with pytest.raises(CommandFailedError, match=r"^idp1: 'slapcat' exited with 1"):
        asyncio.run(fake.run(["slapcat"]))
    result = asyncio.run(fake.run(["slapcat"], check=False))
    assert result.exit_code == 1


def test_fake_failure_passes_through_with_node() -> None:
    fake = FakeTransport(node="idp3", fail_with=UnreachableError("idp3", "cannot connect"))
    with pytest.raises(UnreachableError, match="^idp3: cannot connect"):
        asyncio.run(fake.read_file("/etc/hosts"))
