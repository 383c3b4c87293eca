#!/bin/bash
# BeforeAllowTraffic: validated, not yet registered with the target group (in blue/green: a replacement instance).
set -euo pipefail
# Where the files section installs the app; tests point it at a temporary directory.
APP=${SAMPLE_APP_DIR:-/opt/sample-app}
echo "BeforeAllowTraffic on $(hostname): serving $(cat "$APP/www/version.txt"), registration comes next"
