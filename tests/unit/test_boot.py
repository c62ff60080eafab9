"""Services at boot: the boot facts' parser, which services the inventory needs, the
step's plan, and the gluu-csync2d definitions for each init system."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gluu_cluster.boot.facts import (
    BootFacts,
    InitSystem,
    Service,
    ldap_service,
    parse_facts,
    sync_service,
    wanted,
)
from gluu_cluster.facts.script import parse_sections
from gluu_cluster.filesync.service import definition_path, script_text, unit_text
from gluu_cluster.inventory import load_inventory
from tests.unit.test_facts import line

FIXTURES = Path(__file__).parent / "fixtures"


def _inventory(tmp_path: Path, service: str):  # type: ignore[no-untyped-def]
    text = (FIXTURES / "converged" / "cluster.yaml").read_text()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name in ("ldap-admin-password", "ldap-replication-password"):
        (secrets / name).write_text("x\n")
        (secrets / name).chmod(0o600)
    (tmp_path / "truststore-password").write_text("changeit\n")
    (tmp_path / "truststore-password").chmod(0o600)
    path = tmp_path / "cluster.yaml"
    path.write_text(text.replace("secrets/truststore-password", "truststore-password"))
    inventory = load_inventory(path)
    assert inventory.ldap is not None and inventory.ldap.service is not None
    return inventory, service


def test_recorded_boot_facts_of_a_converged_lab_node() -> None:
    facts = parse_facts("node2", None, parse_sections(  # type: ignore[arg-type]
        (FIXTURES / "converged" / "node2-boot.out").read_bytes()))
    assert facts.init is InitSystem.SYSV  # a chroot container: its own rc scripts
    assert facts.enabled(Service("sysv", "solserver", "ldap"))
    assert facts.enabled(Service("sysv", "gluu-csync2d", "sync"))


def test_a_script_without_links_or_missing_is_not_enabled() -> None:
    facts = parse_facts("n", None, parse_sections(  # type: ignore[arg-type]
        line("init", 0, b"sysv\n") + line("sysv.solserver", 0, b"3\n")
        + line("sysv.gluu-csync2d", 3) + line("unit.gluu-csync2d.service", 1, b"disabled\n")))
    solserver = Service("sysv", "solserver", "ldap")
    assert not facts.enabled(solserver) and facts.has_script(solserver)  # only runlevel 3
    assert not facts.has_script(Service("sysv", "gluu-csync2d", "sync"))
    assert not facts.enabled(Service("unit", "gluu-csync2d.service", "sync"))
    on_systemd = BootFacts(InitSystem.SYSTEMD, {}, {"slapd.service": "enabled"})
    assert on_systemd.enabled(Service("unit", "slapd.service", "ldap"))


@pytest.mark.parametrize(("service", "expected"), [
    ({"systemd_unit": "opendj.service"}, Service("unit", "opendj.service", "the LDAP server")),
    ({"pid_file": "/run/slapd.pid", "start_command": ["/etc/init.d/solserver", "start"]},
     Service("sysv", "solserver", "the LDAP server")),
    ({"pid_file": "/run/slapd.pid", "start_command": ["/usr/sbin/service", "opendj", "start"]},
     Service("sysv", "opendj", "the LDAP server")),
    ({"pid_file": "/run/slapd.pid", "start_command": ["/usr/sbin/slapd", "-F", "/x"]}, None),
])
def test_the_ldap_service_as_the_inventory_starts_it(
        tmp_path: Path, service: dict[str, object], expected: Service | None) -> None:
    inventory, _ = _inventory(tmp_path, "")
    assert inventory.ldap is not None
    from gluu_cluster.inventory import LDAPService
    ldap = inventory.ldap.model_copy(update={"service": LDAPService(**service)})  # type: ignore[arg-type]
    changed = inventory.model_copy(update={"ldap": ldap})
    assert ldap_service(changed) == expected
    if expected is not None:
        found = wanted(changed, InitSystem.SYSV)
        assert found == (expected, sync_service(InitSystem.SYSV))


def test_gluu_csync2d_definitions_restart_it_and_parse_as_shell(tmp_path: Path) -> None:
    inventory, _ = _inventory(tmp_path, "")
    settings = inventory.file_sync
    unit = unit_text(settings)
    assert "Restart=on-failure" in unit and "WantedBy=multi-user.target" in unit
    assert f"ExecStart=/bin/bash {settings.config_dir}/gluu-csync2d" in unit
    script = tmp_path / "gluu-csync2d"
    script.write_text(script_text(settings))
    assert subprocess.run(["sh", "-n", str(script)], check=False).returncode == 0
    assert definition_path(InitSystem.SYSTEMD) == "/etc/systemd/system/gluu-csync2d.service"
    assert definition_path(InitSystem.SYSV) == "/etc/init.d/gluu-csync2d"
    # Not running: 'status' says so with LSB's 3; 'stop' of a stopped daemon is fine.
    state = tmp_path / "state"
    state.mkdir()
    script.write_text(script_text(settings).replace(f"STATE='{settings.database_dir}/gluu'",
                                                    f"STATE={state}"))
    assert subprocess.run(["sh", str(script), "status"], capture_output=True,
                          check=False).returncode == 3
    assert subprocess.run(["sh", str(script), "stop"], capture_output=True,
                          check=False).returncode == 0
