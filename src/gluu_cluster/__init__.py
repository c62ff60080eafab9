"""gluu-cluster: turn Gluu Server CE nodes into one replicated cluster and keep it healthy."""

__version__ = "0.1.0"
