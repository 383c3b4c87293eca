#!/bin/bash
# Runs on every instance after the bundle is extracted and before the app is built: prints what the platform provides.
set -euo pipefail
echo "prebuild hook: node $(node --version), npm $(npm --version), on $(uname -m)"
