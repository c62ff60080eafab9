"""Facts: read-only commands on a node plus pure parsers, testable with no host."""
