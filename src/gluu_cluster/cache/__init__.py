"""The shared cache: Redis over TLS, reached by every node's Gluu applications."""
