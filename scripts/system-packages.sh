#!/usr/bin/env bash
# The Debian packages the tests start as real servers (message brokers on loopback ports).
# Idempotent: installs only what is missing (needs root and the Debian archive); CI runs it
# before `npm install && npm test`, and the tests' harnesses run it when a server is missing.
set -euo pipefail
need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
missing=()
need redis-server || missing+=(redis-server)
need nats-server || missing+=(nats-server)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"
fi
