#!/bin/bash
# BeforeInstall: before the agent copies the revision's files: clear what the last one left.
set -euo pipefail
# Where the files section installs the app; tests point it at a temporary directory.
APP=${SAMPLE_APP_DIR:-/opt/sample-app}
rm -rf "$APP/www"
mkdir -p "$APP"
echo "cleared $APP/www for the new revision"
