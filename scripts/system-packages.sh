#!/usr/bin/env bash
# Installs the system packages the tests start real servers from (Debian/Ubuntu, as root).
# Idempotent: each line installs its package only when its command is missing.
set -euo pipefail
updated=0
need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$updated" = 0 ]; then apt-get update -qq; updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"
}
need redis-server redis-server
need nats-server nats-server
