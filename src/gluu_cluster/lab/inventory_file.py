"""The inventory a lab writes for itself: real-node settings pointing at the fake hosts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .gluu_files import SYNCED_DIRS, TOMCAT_CONF, TOMCAT_SCRIPT, TRUSTSTORE
from .layout import CONTAINER_ROOT, LabLayout, LabNode
from .servers import LabServer
from .webapp import CACHE_PORT, FRONT_PORT
from .webapp import PORT as WEBAPP_PORT


def inventory_data(layout: LabLayout, nodes: list[LabNode], ssh_port: int,
                   server: LabServer, front: list[LabNode] | None = None) -> dict[str, Any]:
    data = {
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
    if front:
        balancer, cache = front
        data["cache"] = {
            "type": "redis",
            "host": {"name": cache.name, "address": cache.address, "container_root": CONTAINER_ROOT},
            "port": CACHE_PORT, "password": {"file": str(layout.secret("cache-password"))}}
        data["load_balancer"] = {
            "host": {"name": balancer.name, "address": balancer.address,
                     "container_root": CONTAINER_ROOT},
            "port": FRONT_PORT, "node_port": WEBAPP_PORT}
    return data


def write_inventory(path: Path, layout: LabLayout, nodes: list[LabNode], ssh_port: int,
                    server: LabServer, front: list[LabNode] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Written by 'gluu-cluster lab up': the local lab of fake Gluu hosts.\n"
        "# Secrets are referenced from 0600 files, never written here.\n"
    )
    path.write_text(header + yaml.safe_dump(inventory_data(layout, nodes, ssh_port, server, front),
                                                  sort_keys=False))
