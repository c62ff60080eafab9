"""The cluster's state: one immutable snapshot (snapshot.py) built from every area's facts
by pure functions (gather.py), and the one column spec (columns.py) that the terminal
table, the JSON output and the web page all render.

gather_status is imported from .gather, not from here: gather reads every area, and the
areas' checks build rows of the snapshot, so this package must not import them."""

from .snapshot import ClusterStatus, NodeRow

__all__ = ["ClusterStatus", "NodeRow"]
