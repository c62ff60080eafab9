"""What starts when a node boots: the init system the cluster's services live under
(systemd where it runs the node itself, else the SysV scripts inside the Gluu container,
which the container's start runs as it runs Gluu's own), and whether the LDAP server and
gluu-csync2d are enabled there (facts.py, steps.py)."""
