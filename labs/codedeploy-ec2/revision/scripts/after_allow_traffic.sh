#!/bin/bash
# AfterAllowTraffic: the target group has registered this instance and its health check passed.
set -euo pipefail
echo "AfterAllowTraffic on $(hostname): receiving traffic from the load balancer"
