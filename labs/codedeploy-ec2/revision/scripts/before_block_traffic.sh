#!/bin/bash
# BeforeBlockTraffic: the instance still serves traffic through the load balancer; the first hook of an in-place
# deployment behind a load balancer (in blue/green, it runs on the original instances at the end).
set -euo pipefail
echo "BeforeBlockTraffic on $(hostname): still registered with the target group; deregistration comes next"
