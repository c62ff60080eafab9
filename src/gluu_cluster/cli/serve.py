"""``serve``: the health service for load balancers and Prometheus, the status page, the
history of the cluster's state and the alert hooks."""

from __future__ import annotations

import click

from ..web.server import serve as run_server
from .common import ACCEPT_NEW_OPTION, INVENTORY_OPTION, load


@click.command()
@INVENTORY_OPTION
@ACCEPT_NEW_OPTION
@click.option("--listen", default="127.0.0.1:8990", show_default=True, metavar="ADDR:PORT",
              help="Where to answer HTTP.")
@click.option("--interval", type=click.FloatRange(min=1), default=30, show_default=True,
              metavar="SECONDS", help="How often the cluster is read again.")
@click.option("--history-days", type=click.FloatRange(min=0), default=7, show_default=True,
              metavar="DAYS", help="Keep each read's summary this long (0: keep none), in "
              "the inventory's state directory; 'status --history' prints its transitions.")
def serve(inventory_path: str, accept_new_host_keys: bool, listen: str, interval: float,
          history_days: float) -> None:
    """Answer /health (200 converged, 503 not; JSON), /nodes/NAME/health (for a load
    balancer in front of one node), /metrics (Prometheus), /history?since= (the kept
    summaries) and / (a status page that updates in place), from a snapshot of the cluster
    read every --interval seconds. On a change of state it runs the inventory's 'alerts:'
    hooks. Stops on SIGTERM or Ctrl-C."""
    run_server(load(inventory_path), listen, interval, accept_new_host_keys, history_days)
