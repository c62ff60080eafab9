"""LDAP replication, whatever the server: the engine seam (engine.py, engines.py), the
problems status reports (checks.py), the deep check and repair (verify.py), the admin
access check (access.py) and the status columns (columns.py).

Each engine lives in a folder of its own (openldap/) and alone knows its server's
configuration; everything here works through the interface in engine.py.
"""
