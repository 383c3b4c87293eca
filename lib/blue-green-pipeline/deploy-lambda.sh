# The Lambda target's Deploy stage (a CodeBuild project: CodePipeline has no CodeDeploy-for-Lambda action).
# Read at synth by lambda-target.ts; these comment lines are left out of the buildspec.
# Environment: FUNCTION_NAME, ALIAS_NAME, APPLICATION_NAME, DEPLOYMENT_GROUP_NAME, BEFORE_ALLOW_TRAFFIC_HOOK,
# AFTER_ALLOW_TRAFFIC_HOOK, PACKAGE_FILE, APPSPEC_FILE, PIPELINE_EXECUTION_ID. Exports TARGET_VERSION, DEPLOYMENT_ID.
set -euo pipefail
test -f "$PACKAGE_FILE" || { echo "the build output has no $PACKAGE_FILE"; exit 1; }
test -f "$APPSPEC_FILE" || { echo "the build output has no $APPSPEC_FILE"; exit 1; }
CURRENT=$(aws lambda get-alias --function-name "$FUNCTION_NAME" --name "$ALIAS_NAME" --query FunctionVersion --output text)
aws lambda update-function-code --function-name "$FUNCTION_NAME" --zip-file "fileb://$PACKAGE_FILE" --query LastUpdateStatus --output text
aws lambda wait function-updated-v2 --function-name "$FUNCTION_NAME"
TARGET_VERSION=$(aws lambda publish-version --function-name "$FUNCTION_NAME" --description "pipeline execution $PIPELINE_EXECUTION_ID" --query Version --output text)
if [ "$TARGET_VERSION" = "$CURRENT" ]; then echo "version $TARGET_VERSION is already live: nothing to shift"; exit 0; fi
APPSPEC=$(sed -e "s|{{FunctionName}}|$FUNCTION_NAME|g; s|{{AliasName}}|$ALIAS_NAME|g; s|{{CurrentVersion}}|$CURRENT|g; s|{{TargetVersion}}|$TARGET_VERSION|g; s|{{BeforeAllowTrafficHook}}|$BEFORE_ALLOW_TRAFFIC_HOOK|g; s|{{AfterAllowTrafficHook}}|$AFTER_ALLOW_TRAFFIC_HOOK|g" "$APPSPEC_FILE")
REVISION=$(jq -n --arg content "$APPSPEC" '{revisionType: "AppSpecContent", appSpecContent: {content: $content}}')
DEPLOYMENT_ID=$(aws deploy create-deployment --application-name "$APPLICATION_NAME" --deployment-group-name "$DEPLOYMENT_GROUP_NAME" --revision "$REVISION" --description "pipeline execution $PIPELINE_EXECUTION_ID: $CURRENT -> $TARGET_VERSION" --query deploymentId --output text)
echo "CodeDeploy deployment $DEPLOYMENT_ID shifts $ALIAS_NAME from version $CURRENT to $TARGET_VERSION"
if ! aws deploy wait deployment-successful --deployment-id "$DEPLOYMENT_ID"; then aws deploy get-deployment --deployment-id "$DEPLOYMENT_ID" --query "deploymentInfo.{status: status, error: errorInformation, rollback: rollbackInfo}"; exit 1; fi
