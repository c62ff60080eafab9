"""Inventory validation: every error names the file, the line and the key path."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from gluu_cluster.errors import InventoryError, SecretError
from gluu_cluster.inventory import check_inventory, load_inventory

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "seed-two-nodes.yaml"

GOOD = """\
cluster: lab
primary: n1
container_root: /opt/gluu-server-4.2
ssh:
  user: root
  port: 22
nodes:
  - name: n1
    address: 127.0.0.11
  - name: n2
    address: n2.example.org
ldap:
  admin_password: {env: LDAP_PW}
file_sync:
  groups:
    - name: g
      paths: [/opt/idp/conf]
certificates:
  sets:
    - name: gluu
      masks: ["httpd.*"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cluster.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(InventoryError) as info:
        load_inventory(write(tmp_path, text))
    return str(info.value)


def test_seed_example_expresses_the_seed_cluster() -> None:
    inv = load_inventory(EXAMPLE)
    assert [n.name for n in inv.nodes] == ["idp1.gluu.org", "idp2.gluu.org"]
    assert inv.primary_node.name == "idp1.gluu.org"
    group = inv.file_sync.groups[0]
    assert group.paths == [
        "/opt/idp/conf", "/opt/idp/metadata", "/opt/idp/ssl", "/opt/apache-tomcat-7.0.65/conf"
    ]
    assert group.exclude == ["*~", ".*"]
    assert group.conflict == "younger"
    assert group.backup.generations == 3
    assert group.actions[0].pattern == ["/opt/apache-tomcat-7.0.65/conf/*"]
    assert group.actions[0].exec == "/sbin/service tomcat restart"
    assert inv.certificates.sets[0].masks == ["httpd.*", "asimba.*", "asimbaIDP.*", "shibIDP.*"]


def test_good_inventory_loads_with_defaults(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, GOOD))
    assert inv.cluster == "lab"
    assert inv.ssh_for(inv.nodes[0]).command_timeout == 120.0
    assert inv.container_root_of(inv.nodes[1]) == "/opt/gluu-server-4.2"
    assert inv.file_sync.port == 30865
    assert inv.certificates.sets[0].directory == "/etc/certs"


def test_per_node_overrides(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    address: n2.example.org\n",
        "    address: n2.example.org\n    ssh: {port: 2222}\n    container_root: /\n",
    )
    inv = load_inventory(write(tmp_path, text))
    assert inv.ssh_for(inv.nodes[1]).port == 2222
    assert inv.ssh_for(inv.nodes[1]).user == "root"
    assert inv.container_root_of(inv.nodes[1]) == "/"


BAD_CASES = [
    # (replace this, with this, expected message)
    ("    address: n2.example.org", "    address: not_a host!",
     "cluster.yaml:11 nodes[1].address: not an IP address or hostname"),
    ("    address: 127.0.0.11", "    address: 300.1.1.1",
     "cluster.yaml:9 nodes[0].address: not an IP address or hostname"),
    ("  - name: n2", "  - name: n1",
     "cluster.yaml:7 nodes: duplicate node name 'n1'"),
    ("    address: n2.example.org", "    address: 127.0.0.11",
     "cluster.yaml:7 nodes: duplicate node address '127.0.0.11'"),
    ("primary: n1", "primary: n9",
     "cluster.yaml:2 primary: 'n9' is not one of the nodes (n1, n2)"),
    ("  port: 22", "  port: 70000",
     "cluster.yaml:6 ssh.port: Input should be less than or equal to 65535"),
    ("  port: 22", "  port: twenty",
     "cluster.yaml:6 ssh.port: must be an integer"),
    ("  user: root", "  usr: root",
     "cluster.yaml:5 ssh.usr: unknown key (check its spelling)"),
    ("container_root: /opt/gluu-server-4.2", "container_root: opt/gluu",
     "cluster.yaml:3 container_root: must be an absolute path (start with '/')"),
    ("cluster: lab", "cluster: 'my lab'",
     "cluster.yaml:1 cluster: must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    ("  admin_password: {env: LDAP_PW}", "  admin_password: {env: LDAP_PW, file: x}",
     "cluster.yaml:13 ldap.admin_password: a secret reference needs exactly one of 'file' or 'env'"),
    ("  admin_password: {env: LDAP_PW}", "  admin_password: {env: 1BAD}",
     "cluster.yaml:13 ldap.admin_password: '1BAD' is not a valid environment variable name"),
    ("  admin_password: {env: LDAP_PW}", "  admin_password: {env: LDAP_PW}\n  admin_dn: directory manager",
     "cluster.yaml:14 ldap.admin_dn: not an LDAP DN (expected e.g. 'cn=directory manager,o=gluu')"),
    ("      paths: [/opt/idp/conf]", "      paths: [/opt/idp/conf]\n      conflict: newest",
     "cluster.yaml:18 file_sync.groups[0].conflict: must be one of 'none', 'first', 'younger', 'older', 'bigger', 'smaller', 'left' or 'right'"),
    ("      paths: [/opt/idp/conf]", "      paths: [conf]",
     "cluster.yaml:17 file_sync.groups[0].paths[0]: must be an absolute path (start with '/')"),
    ("      paths: [/opt/idp/conf]", "      paths: []",
     "cluster.yaml:17 file_sync.groups[0].paths: list should have at least 1 item after validation, not 0"),
    ("      paths: [/opt/idp/conf]", "      paths: [/opt/idp/conf]\n      backup: {generations: 0}",
     "cluster.yaml:18 file_sync.groups[0].backup.generations: Input should be greater than or equal to 1"),
    ('      masks: ["httpd.*"]', '      masks: ["certs/httpd.*"]',
     "cluster.yaml:21 certificates.sets[0].masks: mask 'certs/httpd.*' must be a file-name pattern without '/'"),
    ('      masks: ["httpd.*"]', '      masks: ["httpd.*"]\n      source: n7',
     "cluster.yaml:22 certificates.sets[0].source: 'n7' is not one of the nodes (n1, n2)"),
    ('      masks: ["httpd.*"]', '      masks: ["httpd.*"]\n      truststore: {path: /etc/cacerts, type: JCEKS, password: {env: TS}}',
     "cluster.yaml:22 certificates.sets[0].truststore.type: must be one of 'JKS' or 'PKCS12'"),
    ('      masks: ["httpd.*"]', '      masks: ["httpd.*"]\n      dir: /etc/certs',
     "cluster.yaml:22 certificates.sets[0].dir: unknown key (check its spelling)"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD_CASES)
def test_bad_inventory_messages(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD, old
    message = error_of(tmp_path, GOOD.replace(old, new, 1))
    assert message.split(" (and ")[0] == expected


def test_missing_required_keys_point_at_the_parent(tmp_path: Path) -> None:
    message = error_of(tmp_path, "cluster: lab\nnodes:\n  - name: n1\n")
    assert message.startswith("cluster.yaml:3 nodes[0].address: required key is missing")


def test_missing_nodes(tmp_path: Path) -> None:
    assert error_of(tmp_path, "cluster: lab\n").startswith(
        "cluster.yaml:1 nodes: required key is missing"
    )


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, "cluster: lab\nnodes:\n  - name: [n1\n")
    assert message.startswith("cluster.yaml:4: YAML syntax error")


def test_not_a_mapping(tmp_path: Path) -> None:
    assert error_of(tmp_path, "- a\n- b\n") == (
        "cluster.yaml:1: the inventory must be a YAML mapping with 'cluster' and 'nodes'"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="no such inventory file"):
        load_inventory(tmp_path / "nope.yaml")


def test_every_problem_is_listed(tmp_path: Path) -> None:
    text = GOOD.replace("  port: 22", "  port: 0").replace("address: 127.0.0.11", "address: -x-")
    inventory, problems = check_inventory(write(tmp_path, text))
    assert inventory is None
    assert len(problems) == 2
    assert "ssh.port" in problems[0] and "nodes[0].address" in problems[1]
    message = error_of(tmp_path, text)
    assert message.endswith("(and 1 more: run 'gluu-cluster validate')")


def test_secret_file_must_be_private(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret-value\n")
    os.chmod(secret, 0o644)
    inv = load_inventory(write(tmp_path, GOOD.replace("{env: LDAP_PW}", "{file: pw}")))
    assert inv.ldap is not None
    with pytest.raises(SecretError, match=r"mode 0644; run 'chmod 600"):
        inv.ldap.admin_password.resolve(inv.base_dir)
    os.chmod(secret, 0o600)
    value = inv.ldap.admin_password.resolve(inv.base_dir)
    assert value.reveal() == "s3cret-value"
    assert "s3cret" not in repr(value) and "s3cret" not in str(value)


def test_secret_env_must_be_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv = load_inventory(write(tmp_path, GOOD))
    assert inv.ldap is not None
    monkeypatch.delenv("LDAP_PW", raising=False)
    with pytest.raises(SecretError, match="LDAP_PW"):
        inv.ldap.admin_password.resolve(inv.base_dir)
    monkeypatch.setenv("LDAP_PW", "from-the-env")
    assert inv.ldap.admin_password.resolve(inv.base_dir).reveal() == "from-the-env"
