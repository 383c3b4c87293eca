#!/bin/bash
# ValidateService: the app answers with the version this revision installed. A revision carrying the break marker
# fails here on purpose: the deployment fails, and the deployment group's automatic rollback redeploys the last good one.
set -euo pipefail
# Where the files section installs the app; tests point it at a temporary directory.
APP=${SAMPLE_APP_DIR:-/opt/sample-app}
WWW="$APP/www"
EXPECTED=$(cat "$WWW/version.txt")
cat "$WWW/instance.json"
for attempt in 1 2 3 4 5; do
  if SERVED=$(curl -sf http://localhost/version.txt); then break; fi
  sleep 2
done
if [ "${SERVED:-}" != "$EXPECTED" ]; then
  echo "ValidateService: expected version $EXPECTED, the app served '${SERVED:-nothing}'" >&2
  exit 1
fi
if [ -e "$WWW/BREAK_VALIDATE_SERVICE" ]; then
  echo "ValidateService: this revision carries BREAK_VALIDATE_SERVICE, failing on purpose" >&2
  exit 1
fi
echo "ValidateService: the app serves version $SERVED"
