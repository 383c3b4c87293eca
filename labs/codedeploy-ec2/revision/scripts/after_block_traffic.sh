#!/bin/bash
# AfterBlockTraffic: the target group has deregistered this instance and its deregistration delay has passed.
set -euo pipefail
echo "AfterBlockTraffic on $(hostname): no new requests reach this instance; safe to stop the app"
