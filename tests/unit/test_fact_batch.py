"""Several areas' fact scripts in one round trip (facts.script.run_batch), run for real
by bash on this machine (no container: root empty)."""

from __future__ import annotations

import asyncio

from gluu_cluster.errors import CommandFailedError
from gluu_cluster.facts.script import Script, parse_batch, run_batch
from gluu_cluster.transport.local import LocalTransport

ECHO = 'section first printf "%s|" "$@"\nsection second sh -c "exit 4"\n'
BROKEN = 'echo "cannot open the directory" >&2\nexit 3\n'


def test_each_script_gets_its_own_arguments_as_data_and_its_own_sections() -> None:
    hostile = ["a b", "$(touch /tmp/gluu-batch-pwned)", "'\"", "", *map(str, range(5, 13))]
    found = asyncio.run(run_batch(LocalTransport("n1"), [
        Script("one", ECHO, tuple(hostile)), Script("two", ECHO, ("x",)),
        Script("three", BROKEN, ()),
    ], timeout=30))
    one, two, three = found["one"], found["two"], found["three"]
    assert not isinstance(one, Exception) and not isinstance(two, Exception)
    assert one["first"].out == "|".join(hostile) + "|"
    assert one["second"].exit_code == 4
    assert two["first"].out == "x|"
    assert isinstance(three, CommandFailedError)
    assert "three fact script failed (exit 3): cannot open the directory" in str(three)
    assert three.node == "n1"


def test_a_batch_cut_short_fails_each_area_it_did_not_report() -> None:
    scripts = [Script("one", ECHO, ()), Script("two", ECHO, ())]
    found = parse_batch("n1", scripts, b"")
    assert all(isinstance(v, CommandFailedError) for v in found.values())
    assert "two fact script failed (exit 255): no output" in str(found["two"])


def test_each_script_reads_only_its_own_part_of_the_batchs_stdin() -> None:
    reader = "section got cat\nsection_in got_in cat\n"
    found = asyncio.run(run_batch(LocalTransport("n1"), [
        Script("a", reader, (), stdin=b"first secret\n"), Script("b", ECHO, ()),
        Script("c", reader, (), stdin=b"second"),
    ], timeout=30))
    a, c = found["a"], found["c"]
    assert not isinstance(a, Exception) and not isinstance(c, Exception)
    assert (a["got"].stdout, a["got_in"].stdout) == (b"", b"first secret\n")
    assert (c["got"].stdout, c["got_in"].stdout) == (b"", b"second")
    assert "secret" not in repr(Script("a", reader, (), stdin=b"first secret\n"))
