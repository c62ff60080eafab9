"""The facts of one plan or apply run: each node's facts per area read once, in parallel,
and read again only on the node and in the areas a change touched.

An area's facts are declared once in ``<area>/facts.py`` as a :class:`ScriptArea`: a
fixed fact script, its arguments, what it reads on stdin (a bind's password) and its pure
parser. Steps ask the cache for them, never the node. The areas a run needs of one node
are read together, in one round trip (:func:`~.script.run_batch`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import FactsError, GluuClusterError
from .script import Script, Sections, run_batch, run_script

if TYPE_CHECKING:
    from ..connection import ClusterConnection, NodeHandle, Scope
    from ..inventory import Inventory

T = TypeVar("T")


class FactArea(Generic[T]):
    """What a node's facts are in one area (``name``), and how to read them."""

    name: str
    scope: Scope = "nodes"

    async def read(self, handle: NodeHandle, inventory: Inventory,
                   down: frozenset[str] = frozenset()) -> T:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


@dataclass(frozen=True, eq=False, repr=False)
class ScriptArea(FactArea[T]):
    """An area read by one fixed fact script: ``args`` gives its positional arguments
    for a node (from the node, the inventory and the nodes this run found down, which a
    script asking peers leaves out), ``parse`` (pure: node name, inventory, sections)
    turns its sections into the facts. Runs in the node's container unless ``on_host``."""

    name: str
    script: str
    args: Callable[[NodeHandle, Inventory, frozenset[str]], Sequence[str]]
    parse: Callable[[str, Inventory, Sections], T]
    timeout: Callable[[Inventory], float] = lambda _inventory: 60.0
    on_host: bool = False
    # What the script reads on stdin (a password: ``section_in`` passes it to a command).
    stdin: Callable[[Inventory], bytes] | None = None
    scope: Scope = "nodes"

    def of(self, handle: NodeHandle, inventory: Inventory,
           down: frozenset[str] = frozenset()) -> Script:
        root = "" if self.on_host or handle.container is handle.host else handle.container_root
        return Script(self.name, self.script, tuple(self.args(handle, inventory, down)), root,
                      self.stdin(inventory) if self.stdin is not None else b"")

    async def read(self, handle: NodeHandle, inventory: Inventory,
                   down: frozenset[str] = frozenset()) -> T:
        transport = handle.host if self.on_host else handle.container
        script = self.of(handle, inventory, down)
        sections = await run_script(transport, self.name, script.body, script.args,
                                    self.timeout(inventory), script.stdin or None)
        return self.parse(handle.name, inventory, sections)


def _kept(task: asyncio.Task[T]) -> asyncio.Task[T]:
    """A read's failure is kept for whoever asks; when nobody asks (the reader was cancelled,
    e.g. serve stopping mid-read), it is not an unhandled error ("Task exception was never
    retrieved" with a traceback on stderr)."""
    task.add_done_callback(lambda t: None if t.cancelled() else t.exception())
    return task


class FactCache:
    def __init__(self, cluster: ClusterConnection) -> None:
        self.cluster = cluster
        self._reads: dict[tuple[str, str], asyncio.Task[Any]] = {}

    async def of(self, area: FactArea[T], handle: NodeHandle) -> T:
        key = (area.name, handle.name)
        task = self._reads.get(key)
        if task is None:
            task = _kept(asyncio.ensure_future(area.read(handle, self.cluster.inventory,
                                                         self.cluster.down)))
            self._reads[key] = task
        # A failure is kept too: within one run, asking again would only wait again.
        result: T = await asyncio.shield(task)
        return result

    async def prefetch(self, areas: Iterable[FactArea[Any]]) -> None:
        """Start reading every area on every node at once, the script areas of a node in
        one round trip; failures wait for whoever asks."""
        wanted = list(dict.fromkeys(areas))
        where = {a.name: self.cluster.scope(a.scope) for a in wanted}
        handles = {h.name: h for hs in where.values() for h in hs}
        for handle in handles.values():
            batch = [a for a in wanted if isinstance(a, ScriptArea) and handle in where[a.name]
                     and (a.name, handle.name) not in self._reads]
            if len(batch) > 1:
                self._batch(handle, batch)
        jobs = [self.of(area, handle) for area in wanted for handle in where[area.name]]
        await asyncio.gather(*jobs, return_exceptions=True)

    def _batch(self, handle: NodeHandle, wanted: list[ScriptArea[Any]]) -> None:
        inventory = self.cluster.inventory
        areas, scripts = [], []
        for area in wanted:
            try:
                scripts.append(area.of(handle, inventory, self.cluster.down))
                areas.append(area)
            except GluuClusterError:
                pass  # cannot even be asked (a secret missing): read alone, it says why
        if len(areas) < 2:
            return
        batch = _kept(asyncio.ensure_future(run_batch(handle.host, scripts,
                                                      max(a.timeout(inventory) for a in areas))))

        async def one(area: ScriptArea[Any]) -> Any:
            found = (await asyncio.shield(batch))[area.name]
            if isinstance(found, GluuClusterError):
                raise found
            return area.parse(handle.name, inventory, found)

        for area in areas:
            self._reads[(area.name, handle.name)] = _kept(asyncio.ensure_future(one(area)))

    async def every(self, area: FactArea[T]) -> dict[str, T]:
        """Every node's facts of the area, read in parallel; any failure raises, naming
        every node that failed."""
        results = await self.cluster.each(lambda h: self.of(area, h),
                                          self.cluster.scope(area.scope))
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
