#!/bin/bash
# Reads the instance metadata the IMDSv2 way (a PUT for a session token, then GETs that carry it), prints it to the
# deployment log and serves it as /instance.json. Without the token, IMDS answers 401: the instances require IMDSv2.
set -euo pipefail
# Where the files section installs the app; tests point it at a temporary directory.
APP=${SAMPLE_APP_DIR:-/opt/sample-app}
IMDS=http://169.254.169.254/latest
TOKEN=$(curl -sf -X PUT "$IMDS/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
meta() { curl -sf -H "X-aws-ec2-metadata-token: $TOKEN" "$IMDS/meta-data/$1"; }
INSTANCE_ID=$(meta instance-id)
ZONE=$(meta placement/availability-zone)
ROLE=$(meta iam/security-credentials/)
# Only the expiry of the role's temporary credentials is printed: the keys themselves must never reach a log.
EXPIRATION=$(meta "iam/security-credentials/$ROLE" | sed -n 's/.*"Expiration" *: *"\([^"]*\)".*/\1/p')
echo "IMDSv2: instance $INSTANCE_ID in $ZONE, role $ROLE, credentials expire $EXPIRATION"
printf '{"instanceId":"%s","availabilityZone":"%s","role":"%s","credentialsExpire":"%s"}\n' \
  "$INSTANCE_ID" "$ZONE" "$ROLE" "$EXPIRATION" > "$APP/www/instance.json"
