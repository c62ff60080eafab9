#!/usr/bin/env bash
# Install everything the tests need, then run them: unit tests and integration tests
# against the real engines (sshd, slapd, keytool) on loopback addresses.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --dev
.venv/bin/ruff check src tests bench
.venv/bin/mypy src
exec .venv/bin/python -m pytest -ra "$@"
