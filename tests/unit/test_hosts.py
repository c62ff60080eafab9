"""The hosts-file fact and its managed block."""

from __future__ import annotations

from gluu_cluster.hosts.facts import BEGIN, DISABLED, END, HostsEntry, parse_hosts, render_hosts

WANTED = [HostsEntry("192.168.6.1", ("idp1.gluu.org",)), HostsEntry("192.168.6.2", ("idp2.gluu.org",))]
DEBIAN = "127.0.0.1\tlocalhost\n::1\tip6-localhost ip6-loopback\n"


def test_parse_skips_comments_and_blank_lines() -> None:
    text = "# comment\n\n127.0.0.1 localhost loopback # trailing\nbogus\n"
    assert parse_hosts(text) == [HostsEntry("127.0.0.1", ("localhost", "loopback"))]


def test_block_is_appended_once_and_is_stable() -> None:
    first, notes = render_hosts(DEBIAN, WANTED)
    assert notes == []
    assert first.startswith(DEBIAN)
    assert f"{BEGIN}\n192.168.6.1\tidp1.gluu.org\n192.168.6.2\tidp2.gluu.org\n{END}\n" in first
    second, _ = render_hosts(first, WANTED)
    assert second == first


def test_block_is_replaced_in_place_when_nodes_change() -> None:
    first, _ = render_hosts(DEBIAN + "10.0.0.9 other\n", WANTED)
    grown, _ = render_hosts(first, [*WANTED, HostsEntry("192.168.6.3", ("idp3.gluu.org",))])
    assert grown.count(BEGIN) == 1
    assert "192.168.6.3\tidp3.gluu.org" in grown
    assert "10.0.0.9 other" in grown
    shrunk, _ = render_hosts(grown, WANTED[:1])
    assert "idp2" not in shrunk and "idp3" not in shrunk


def test_conflicting_line_is_disabled_and_reported() -> None:
    text = DEBIAN + "127.0.1.1\tidp1.gluu.org idp1\n"
    new, notes = render_hosts(text, WANTED)
    assert notes == ["disabled conflicting line '127.0.1.1\tidp1.gluu.org idp1'"]
    assert DISABLED + "127.0.1.1\tidp1.gluu.org idp1" in new
    assert parse_hosts(new).count(HostsEntry("127.0.1.1", ("idp1.gluu.org", "idp1"))) == 0
