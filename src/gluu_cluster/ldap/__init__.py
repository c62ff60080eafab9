"""OpenLDAP multi-provider replication: cn=config changes, initialise, status facts.

Everything goes through the node's own OpenLDAP client tools inside the Gluu container,
over ldapi with SASL EXTERNAL (root), so no LDAP password is ever needed or shown for
configuration; LDIF is read and written with python-ldap's ldif module.
"""
