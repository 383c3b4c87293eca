#!/bin/bash
# ApplicationStop: runs from the last revision deployed successfully here (none on a new instance, then skipped).
set -euo pipefail
if systemctl is-active --quiet sample-app; then
  systemctl stop sample-app
  echo "stopped sample-app"
else
  echo "sample-app was not running"
fi
