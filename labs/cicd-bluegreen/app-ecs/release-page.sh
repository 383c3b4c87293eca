#!/bin/sh
# Writes / and /version.json before nginx starts: the release baked into the image, and the task definition
# (family:revision) this task runs, read from the ECS task metadata endpoint. The AfterAllowTestTraffic hook requires
# /version.json on the test listener to name the task definition of the new task set.
set -eu
html="${HTML_DIR:-/usr/share/nginx/html}"
task_definition=unknown
if [ -n "${ECS_CONTAINER_METADATA_URI_V4:-}" ] && task=$(wget -qO- "$ECS_CONTAINER_METADATA_URI_V4/task"); then
  field() { echo "$task" | grep -o "\"$1\": *\"[^\"]*\"" | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/'; }
  task_definition="$(field Family):$(field Revision)"
fi
printf '{"release":"%s","taskDefinition":"%s"}\n' "$RELEASE" "$task_definition" > "$html/version.json"
printf '<!doctype html>\n<title>release %s</title>\n<h1>release %s</h1>\n<p>task definition %s</p>\n' \
  "$RELEASE" "$RELEASE" "$task_definition" > "$html/index.html"
echo "release $RELEASE, task definition $task_definition"
