#!/usr/bin/env bash
# The main job on a local lab: install, start 3 fake Gluu hosts with the seed's 36,000-entry
# directory on the primary, show the plan, apply it, show the lab. Leaves the lab running.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
gc=.venv/bin/gluu-cluster
$gc lab up --nodes "${LAB_NODES:-3}" --entries "${LAB_ENTRIES:-36000}"
$gc validate -i gluu-lab/cluster.yaml
$gc plan -i gluu-lab/cluster.yaml
$gc apply -i gluu-lab/cluster.yaml --yes
$gc apply -i gluu-lab/cluster.yaml --yes   # a second run has nothing to do
$gc lab status
echo
echo "The lab is running. Stop it with: .venv/bin/gluu-cluster lab down"
