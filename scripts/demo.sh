#!/usr/bin/env bash
# The main job on a local lab: install, start 3 fake Gluu hosts (OpenDJ, the guide's LDAP
# server; LAB_ENGINE=openldap for slapd) with the seed's 36,000-entry directory on the
# primary, check them, apply, then show the cluster at work (an LDAP write on node 1
# reaching node 3, a file edit on node 2 reaching node 1, certificates agreeing,
# requests through the load balancer and a login session shared through the cache)
# and its status. Leaves the lab running.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
gc=.venv/bin/gluu-cluster
inv=gluu-lab/cluster.yaml
# The guide's own LDAP server by default; LAB_ENGINE=openldap for Gluu 3.x's slapd.
# --front: a load balancer host (nginx) and a cache host (Redis) in front of the nodes.
$gc lab up --nodes "${LAB_NODES:-3}" --entries "${LAB_ENTRIES:-36000}" --engine "${LAB_ENGINE:-opendj}" --front
$gc check -i $inv
$gc apply -i $inv --yes
$gc apply -i $inv --yes   # a second run has nothing to do
echo
.venv/bin/python scripts/demo_show.py $inv
echo
$gc status -i $inv
echo
echo "As a monitoring plugin (Nagios/Icinga) sees it:"
$gc status -i $inv --check || true
echo
echo "The lab is running. Watch it with: $gc status -i $inv --watch 5"
echo "Status page, health endpoints, history: $gc serve -i $inv   (then http://127.0.0.1:8990/, /health, /metrics, /history)"
echo "Alerts on a change of state: an 'alerts:' section in $inv (see the README)"
echo "Stop it with: $gc lab down"
