"""The ``gluu-cluster`` command line: one module per command group."""
