"""The command line: help on every command, exit codes, one-line masked errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gluu_cluster.cli.main import cli, main
from gluu_cluster.secrets import redactor

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "seed-two-nodes.yaml"


def commands() -> list[list[str]]:
    out: list[list[str]] = [[]]
    for name, command in cli.commands.items():  # type: ignore[attr-defined]
        out.append([name])
        for sub in getattr(command, "commands", {}):
            out.append([name, sub])
    return out


@pytest.mark.parametrize("path", commands(), ids=lambda p: " ".join(p) or "top")
def test_every_command_has_help(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*path, "--help"]) == 0
    assert "Usage: gluu-cluster" in capsys.readouterr().out


def test_validate_ok_and_json(capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Its secrets come from the environment: validate reads each.
    for name in ("GLUU_LDAP_ADMIN_PASSWORD", "GLUU_LDAP_REPLICATION_PASSWORD",
                 "GLUU_TRUSTSTORE_PASSWORD"):
        monkeypatch.setenv(name, f"value-of-{name}")
    assert main(["validate", "-i", str(EXAMPLE)]) == 0
    assert "valid: cluster 'gluu-seed', 2 nodes" in capsys.readouterr().out
    assert main(["validate", "-i", str(EXAMPLE), "--format", "json"]) == 0
    assert '"valid": true' in capsys.readouterr().out


def test_validate_bad_inventory_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "cluster.yaml"
    bad.write_text("cluster: x\nnodes:\n  - {name: a, address: 'b c'}\n")
    assert main(["validate", "-i", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == "cluster.yaml:3 nodes[0].address: not an IP address or hostname"


def test_validate_and_check_name_each_bad_secret_once(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    loose, empty = tmp_path / "loose", tmp_path / "empty"
    loose.write_text("s3cret-value\n")
    loose.chmod(0o644)
    empty.write_text("")
    empty.chmod(0o600)
    inventory = tmp_path / "cluster.yaml"
    # The loose file is named twice (admin and replication password): said once.
    inventory.write_text(
        "cluster: x\nnodes:\n  - {name: a, address: 10.0.0.1}\n  - {name: b, address: 10.0.0.2}\n"
        "ldap:\n  admin_password: {file: loose}\n  replication_password: {file: loose}\n"
        "certificates:\n  sets:\n    - name: gluu\n      directory: /etc/certs\n"
        "      masks: ['*.crt']\n      truststore:\n        path: /etc/cacerts\n"
        "        password: {file: empty}\n"
        "    - name: other\n      directory: /etc/other\n"
        "      masks: ['*.crt']\n      truststore:\n        path: /etc/cacerts2\n"
        "        password: {file: missing}\n")
    for command in (["validate"], ["check"], ["apply", "--yes"]):
        assert main([*command, "-i", str(inventory)]) == 2, command
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 3, (command, err)
        assert "ldap.admin_password: secret file" in lines[0] and "mode 0644" in lines[0]
        assert "certificates.sets[0].truststore.password:" in err and "is empty" in err
        assert "does not exist" in err and "s3cret-value" not in err
        assert "Traceback" not in err


def test_plan_with_bad_inventory_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "cluster.yaml"
    bad.write_text("cluster: x\n")
    assert main(["plan", "-i", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: cluster.yaml:1 nodes: required key")
    assert "Traceback" not in err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan"]) == 2
    assert "Missing option '-i'" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2


def test_unreachable_node_exits_1_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncssh

    key = tmp_path / "id"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(key))
    inv = tmp_path / "cluster.yaml"
    # 127.0.0.1 port 1: nothing listens there, so the connection is refused at once.
    inv.write_text(
        f"cluster: x\nssh: {{port: 1, identity_file: {key}, known_hosts: {tmp_path}/kh}}\n"
        "nodes:\n  - {name: lonely, address: 127.0.0.1}\n"
    )
    assert main(["plan", "-i", str(inv)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: lonely: cannot connect to 127.0.0.1:1")


def test_errors_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    from gluu_cluster.cli.output import print_error

    redactor.register("hunter2-very-secret")
    print_error("bind failed with password hunter2-very-secret\nsecond line")
    err = capsys.readouterr().err
    assert "hunter2" not in err and err.count("\n") == 1
