"""The facts of one plan or apply run: each node's facts per area read once, in parallel,
and read again only on the node and in the areas a change touched.

An area's facts are declared once (:class:`FactArea`: a name and how to read one node, a
fact script plus its pure parser in ``<area>/facts.py``); steps ask the cache for them,
never the node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import FactsError, GluuClusterError

if TYPE_CHECKING:
    from ..connection import ClusterConnection, NodeHandle
    from ..inventory import Inventory

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class FactArea(Generic[T]):
    """What a node's facts are in one area, and how to read them (one round trip)."""

    name: str
    read: Callable[[NodeHandle, Inventory], Awaitable[T]]

    def __repr__(self) -> str:
        return f"FactArea({self.name})"


class FactCache:
    def __init__(self, cluster: ClusterConnection) -> None:
        self.cluster = cluster
        self._reads: dict[tuple[str, str], asyncio.Task[Any]] = {}

    async def of(self, area: FactArea[T], handle: NodeHandle) -> T:
        key = (area.name, handle.name)
        task = self._reads.get(key)
        if task is None:
            task = asyncio.ensure_future(area.read(handle, self.cluster.inventory))
            self._reads[key] = task
        # A failure is kept too: within one run, asking again would only wait again.
        result: T = await asyncio.shield(task)
        return result

    async def prefetch(self, areas: Iterable[FactArea[Any]]) -> None:
        """Start reading every area on every node at once; failures wait for whoever asks."""
        jobs = [self.of(area, handle) for area in areas for handle in self.cluster.nodes]
        await asyncio.gather(*jobs, return_exceptions=True)

    async def every(self, area: FactArea[T]) -> dict[str, T]:
        """Every node's facts of the area, read in parallel; any failure raises, naming
        every node that failed."""
        results = await self.cluster.each(lambda h: self.of(area, h))
        failures = [r for _h, r in results if isinstance(r, GluuClusterError)]
        if failures:
            raise FactsError(failures)
        return {h.name: r for h, r in results if not isinstance(r, GluuClusterError)}

    def forget(self, node: str) -> None:
        """Everything known of ``node`` is read again when asked (after a recovery)."""
        for key in [k for k in self._reads if k[1] == node]:
            del self._reads[key]

    def touched(self, node: str, areas: Iterable[FactArea[Any]]) -> None:
        """A change made on ``node`` in these areas: their facts are read again when asked."""
        for area in areas:
            self._reads.pop((area.name, node), None)
