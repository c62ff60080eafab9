"""A node with a different schema stops the plan before anything changes."""

from __future__ import annotations

import pytest

from gluu_cluster.connection import ClusterConnection
from tests.helpers import run_cli

from .conftest import running_lab
from .ldap_helpers import directory, run

EXTRA = """dn: cn={4}gluu,cn=schema,cn=config
changetype: modify
add: olcAttributeTypes
olcAttributeTypes: ( 1.3.6.1.4.1.48710.1.3.999 NAME 'labOnlyAttr' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
"""


def test_schema_difference_is_named_and_nothing_changes(tmp_path_factory: pytest.TempPathFactory) -> None:
    with running_lab(tmp_path_factory, "127.0.10.11", nodes=2, entries=0) as lab:
        async def add_attr(cluster: ClusterConnection) -> None:
            await directory(cluster, "node2").modify(EXTRA)

        run(lab.inventory, add_attr)
        result = run_cli(["apply", "-i", str(lab.inventory_path), "--yes"])
        assert result.returncode == 1
        assert result.stderr.startswith("error: node2: its LDAP schema differs from node1's")
        hosts = run(lab.inventory, lambda c: c.handle("node1").host.read_file("/etc/hosts"))
        assert b"gluu-cluster managed block" not in hosts  # type: ignore[operator]
