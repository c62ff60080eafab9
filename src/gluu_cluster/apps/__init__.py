"""The Gluu applications on each node: their LDAP connection settings fail over."""
