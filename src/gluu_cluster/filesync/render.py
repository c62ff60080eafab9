"""What goes into each node's csync2 directory: csync2.cfg, the supervisor's settings.

Rendered with Jinja2 (StrictUndefined: a missing value is an error, not an empty string).
"""

from __future__ import annotations

import shlex

import jinja2

from ..inventory import FileSync, Inventory

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True,
                          lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)

def _csync2_quote(value: str) -> str:
    if '"' in value or "\n" in value:
        raise ValueError(f"csync2 cannot quote {value!r}")
    return f'"{value}"'


_ENV.filters["csync2_quote"] = _csync2_quote

CSYNC2_CFG = _ENV.from_string("""\
# Managed by gluu-cluster (cluster {{ cluster }}): 'gluu-cluster apply' rewrites this file.
# TLS is always on (no nossl); peers present certificates from the cluster CA.
{% for group in groups %}
group {{ group.name }}
{
    host {{ hosts | join(' ') }};
    key {{ config_dir }}/{{ group.name }}.key;
{% for path in group.paths %}
    include {{ path }};
{% endfor %}
{% if group.exclude %}
    exclude {{ group.exclude | join(' ') }};
{% endif %}
{% for path in per_node if path_in(path, group.paths) %}
    # Differs per node (each node's own LDAP server first): never synced.
    exclude {{ path }};
{% endfor %}
{% for action in group.actions %}
    action
    {
{% for pattern in action.pattern %}
        pattern {{ pattern }};
{% endfor %}
{% if action.exec %}
        exec {{ action.exec | csync2_quote }};
{% endif %}
        logfile {{ action.logfile | csync2_quote }};
{% if action.do_local %}
        do-local;
{% endif %}
    }
{% endfor %}
    backup-directory {{ group.backup.directory }};
    # {{ group.backup.generations }} versions kept: csync2 keeps one fewer than it is told.
    backup-generations {{ group.backup.generations + 1 }};
    auto {{ group.conflict }};
}
{% endfor %}
""")




def csync2_cfg(inventory: Inventory) -> str:
    settings = inventory.file_sync
    return CSYNC2_CFG.render(
        cluster=inventory.cluster,
        hosts=[n.name for n in inventory.nodes],
        config_dir=settings.config_dir,
        groups=settings.groups,
        per_node=inventory.gluu.ldap_properties if inventory.ldap is not None else [],
        path_in=lambda path, roots: any(path == r or path.startswith(r.rstrip("/") + "/")
                                        for r in roots),
    )


def watched_paths(settings: FileSync) -> list[str]:
    return sorted({path for group in settings.groups for path in group.paths})


def supervisor_env(inventory: Inventory, node: str) -> str:
    """Settings the supervisor script sources: shell-quoted, one per line."""
    settings = inventory.file_sync
    values = {
        "NODE": node,
        "CSYNC2_SYSTEM_DIR": settings.config_dir,
        "DB_DIR": settings.database_dir,
        "PORT": str(settings.port),
        "PEERS": " ".join(n.name for n in inventory.nodes if n.name != node),
        "WATCH": "\n".join(watched_paths(settings)),
        "DEBOUNCE": f"{settings.debounce:g}",
        "INTERVAL": str(settings.interval),
        "RETRY": str(settings.retry),
        "TIMEOUT": f"{settings.timeout:g}",
    }
    lines = ["# Managed by gluu-cluster: settings of gluu-csync2d on this node."]
    lines += [f"{key}={shlex.quote(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"
