"""csync2 file replication: config, keys and TLS, the supervised daemon and trigger, status."""
