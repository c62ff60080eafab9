"""The cluster's state: one immutable snapshot (snapshot.py) built from every area's facts
by pure functions (gather.py), and the one column spec (columns.py) that the terminal
table, the JSON output and the web page all render."""

from .gather import gather_status
from .snapshot import ClusterStatus, NodeRow

__all__ = ["ClusterStatus", "NodeRow", "gather_status"]
