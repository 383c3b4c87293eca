#!/bin/bash
# ApplicationStart: start the app the revision installed.
set -euo pipefail
systemctl restart sample-app
echo "started sample-app"
