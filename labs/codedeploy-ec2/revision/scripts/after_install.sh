#!/bin/bash
# AfterInstall: the files are in place (permissions applied): register the unit they include.
set -euo pipefail
# Where the files section installs the app; tests point it at a temporary directory.
APP=${SAMPLE_APP_DIR:-/opt/sample-app}
systemctl daemon-reload
systemctl enable sample-app
echo "installed revision $(cat "$APP/www/version.txt")"
