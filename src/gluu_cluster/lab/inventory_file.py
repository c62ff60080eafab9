"""The inventory a lab writes for itself: real-node settings pointing at the fake hosts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .gluu_files import SYNCED_DIRS, TOMCAT_CONF, TOMCAT_SCRIPT, TRUSTSTORE
from .layout import CONTAINER_ROOT, LabLayout, LabNode
from .servers import LabServer


def inventory_data(layout: LabLayout, nodes: list[LabNode], ssh_port: int,
                   server: LabServer) -> dict[str, Any]:
    return {
        "cluster": "gluu-lab",
        "primary": nodes[0].name,
        "container_root": CONTAINER_ROOT,
        "ssh": {
            "user": "root",
            "port": ssh_port,
            "identity_file": str(layout.client_key),
            "known_hosts": str(layout.known_hosts),
            "connect_timeout": 10,
            "command_timeout": 120,
        },
        "pki": {"directory": str(layout.dir / "pki")},
        "nodes": [{"name": n.name, "address": n.address} | server.node_entry(n, i)
                  for i, n in enumerate(nodes)],
        "ldap": server.inventory_ldap(layout),
        "file_sync": {
            "port": 30865,
            "groups": [
                {
                    "name": "gluu",
                    "paths": list(SYNCED_DIRS),
                    "exclude": ["*~", ".*"],
                    "conflict": "younger",
                    "backup": {"directory": "/var/backups/csync2", "generations": 10},
                    "actions": [
                        {
                            "pattern": [f"{TOMCAT_CONF}/*"],
                            "exec": f"{TOMCAT_SCRIPT} restart",
                            "logfile": "/var/log/csync2_action.log",
                            "do_local": True,
                        }
                    ],
                }
            ],
        },
        "certificates": {
            "sets": [
                {
                    "name": "gluu",
                    "directory": "/etc/certs",
                    "masks": ["httpd.*", "asimba.*", "asimbaIDP.*", "shibIDP.*"],
                    "truststore": {
                        "path": TRUSTSTORE,
                        "type": "JKS",
                        "password": {"file": str(layout.secret("truststore-password"))},
                    },
                    "action": f"{TOMCAT_SCRIPT} restart",
                }
            ]
        },
    }


def write_inventory(path: Path, layout: LabLayout, nodes: list[LabNode], ssh_port: int,
                    server: LabServer) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Written by 'gluu-cluster lab up': the local lab of fake Gluu hosts.\n"
        "# Secrets are referenced from 0600 files, never written here.\n"
    )
    path.write_text(header + yaml.safe_dump(inventory_data(layout, nodes, ssh_port, server), sort_keys=False))
