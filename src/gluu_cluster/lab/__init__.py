"""Fake Gluu hosts on this machine, for the demo and the integration tests.

Each lab node has its own loopback address, its own mount namespace (in which the Gluu
container root, /etc/hosts, /etc/csync2, /var/lib/csync2 and /var/backups/csync2 are
private), a real sshd and a real slapd.  The tool reaches lab nodes only through SSH,
exactly as real nodes: nothing outside this package knows it is in a lab.
"""
