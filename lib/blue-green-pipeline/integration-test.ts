import { Aws, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The integration-test stack around the smoke tests: on by default (`integrationTestStack: false` turns it off). */
export interface IntegrationTestStackOptions {
  /**
   * Template of the stack, a path in the build output. Its parameter `ExecutionId` gets the pipeline execution id;
   * its output `ParameterName` reaches the smoke tests as `INTEGRATION_PARAMETER`; its resources may only be SSM
   * parameters named `/<stack name>/...`. @default 'integration-test.template.json'
   */
  readonly templateFile?: string;
}

/** The Test stage's actions and, with an integration-test stack, its name. */
export interface TestStage {
  readonly actions: codepipeline.IAction[];
  readonly integrationTestStackName?: string;
}

/**
 * The Test stage: CloudFormation CREATE_UPDATE of the integration-test stack, the smoke tests (`testProject`, which
 * gets the stack's outputs as `#{IntegrationTest.<Output>}`), CloudFormation DELETE_ONLY. Without the stack, the
 * smoke tests alone.
 */
export function createTestStage(
  scope: Construct,
  nameInStack: string,
  testProject: codebuild.PipelineProject,
  buildOutput: codepipeline.Artifact,
  options: false | IntegrationTestStackOptions,
): TestStage {
  const environmentVariables: Record<string, codebuild.BuildEnvironmentVariable> = {
    PIPELINE_EXECUTION_ID: { value: codepipeline.GlobalVariables.executionId },
  };
  if (options === false) {
    return {
      actions: [
        new actions.CodeBuildAction({ actionName: 'SmokeTests', type: actions.CodeBuildActionType.TEST, project: testProject, input: buildOutput, environmentVariables }),
      ],
    };
  }

  const stackName = Fn.join('-', [Aws.STACK_NAME, nameInStack, 'integration-test']);
  const deploymentRole = new iam.Role(scope, 'IntegrationTestStackRole', {
    assumedBy: new iam.ServicePrincipal('cloudformation.amazonaws.com'),
    description: `CloudFormation role of the integration-test stack of ${scope.node.path}: its SSM parameter only`,
  });
  const parameterArn = Stack.of(scope).formatArn({ service: 'ssm', resource: 'parameter', resourceName: Fn.join('', [stackName, '/*']) });
  deploymentRole.addToPolicy(
    new iam.PolicyStatement({
      actions: ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:GetParameters', 'ssm:AddTagsToResource', 'ssm:RemoveTagsFromResource'],
      resources: [parameterArn],
    }),
  );
  const acknowledgeParameters = (grantee: Construct, why: string) =>
    Validations.of(grantee).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/<AWS::StackName>-${nameInStack}-integration-test/*]`,
      reason: `SSM parameters under one path: ${why}.`,
    });
  acknowledgeParameters(deploymentRole, 'the parameters of the integration-test stack are named /<stack>/<name> by its template');
  testProject.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameterArn] }));
  acknowledgeParameters(testProject, 'the smoke tests read the integration-test stack parameter, named /<stack>/<name>');

  const create = new actions.CloudFormationCreateUpdateStackAction({
    actionName: 'CreateIntegrationTestStack',
    runOrder: 1,
    stackName,
    templatePath: buildOutput.atPath(options.templateFile ?? 'integration-test.template.json'),
    adminPermissions: false,
    deploymentRole,
    parameterOverrides: { ExecutionId: codepipeline.GlobalVariables.executionId },
    variablesNamespace: 'IntegrationTest',
  });
  environmentVariables.INTEGRATION_PARAMETER = { value: '#{IntegrationTest.ParameterName}' };
  const smokeTests = new actions.CodeBuildAction({
    actionName: 'SmokeTests',
    runOrder: 2,
    type: actions.CodeBuildActionType.TEST,
    project: testProject,
    input: buildOutput,
    environmentVariables,
  });
  const remove = new actions.CloudFormationDeleteStackAction({ actionName: 'DeleteIntegrationTestStack', runOrder: 3, stackName, adminPermissions: false, deploymentRole });
  return { actions: [create, smokeTests, remove], integrationTestStackName: stackName };
}

/**
 * CDK's grants to the CloudFormation actions' roles (created under the pipeline), acknowledged on `pipeline`.
 * Called once the pipeline exists, when the Test stage has an integration-test stack.
 */
export function acknowledgeIntegrationTestActions(pipeline: Construct, nameInStack: string): void {
  Validations.of(pipeline).acknowledge({
    id: 'AwsSolutions-IAM5[Action::cloudformation:DescribeStack*]',
    reason: "CDK's grant to the CloudFormation actions: DescribeStacks, DescribeStackEvents and DescribeStackResources, on the integration-test stack only.",
  });
  Validations.of(pipeline).acknowledge({
    id: 'AwsSolutions-IAM5[Action::cloudformation:GetTemplate*]',
    reason: "CDK's grant to the CREATE_UPDATE action: GetTemplate and GetTemplateSummary, on the integration-test stack only.",
  });
  Validations.of(pipeline).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/<AWS::StackName>-${nameInStack}-integration-test/*]`,
    reason: 'A stack ARN ends in an id CloudFormation assigns at creation: stack/<name>/* names the integration-test stack only.',
  });
}
