import { CfnTemplate } from '../../labs/support/diagram';
import { pipelineDiagrams } from '../../labs/support/pipeline-diagram';

const path = (p: string) => ({ 'aws:cdk:path': `Lab/${p}/Resource` });
const action = (Name: string, Category: string, Provider: string, RunOrder: number, Configuration: object) => ({
  Name,
  ActionTypeId: { Category, Owner: 'AWS', Provider, Version: '1' },
  RunOrder,
  Configuration,
});

const template: CfnTemplate = {
  Resources: {
    Repo: { Type: 'AWS::CodeCommit::Repository', Metadata: path('Repo') },
    Build: { Type: 'AWS::CodeBuild::Project', Metadata: path('Build'), Properties: {} },
    Deploy: {
      Type: 'AWS::CodeBuild::Project',
      Metadata: path('Deploy'),
      Properties: {
        Environment: {
          EnvironmentVariables: [
            { Name: 'DEPLOYMENT_GROUP_NAME', Value: { Ref: 'Group' } },
            { Name: 'BEFORE_ALLOW_TRAFFIC_HOOK', Value: { Ref: 'Hook' } },
          ],
        },
      },
    },
    Hook: { Type: 'AWS::Lambda::Function', Metadata: path('Hook') },
    Config: {
      Type: 'AWS::CodeDeploy::DeploymentConfig',
      Properties: { TrafficRoutingConfig: { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearPercentage: 20, LinearInterval: 2 } } },
    },
    Group: {
      Type: 'AWS::CodeDeploy::DeploymentGroup',
      Metadata: path('Group'),
      Properties: {
        DeploymentConfigName: { Ref: 'Config' },
        AlarmConfiguration: { Alarms: [{ Name: 'a' }] },
        AutoRollbackConfiguration: { Events: ['DEPLOYMENT_STOP_ON_ALARM'] },
      },
    },
    Pipeline: {
      Type: 'AWS::CodePipeline::Pipeline',
      Metadata: path('Pipeline'),
      Properties: {
        PipelineType: 'V2',
        ExecutionMode: 'QUEUED',
        Stages: [
          { Name: 'Source', Actions: [action('Checkout', 'Source', 'CodeCommit', 1, { RepositoryName: { 'Fn::GetAtt': ['Repo', 'Name'] }, BranchName: 'main' })] },
          {
            Name: 'Test',
            Actions: [
              action('Unit', 'Test', 'CodeBuild', 1, { ProjectName: { Ref: 'Build' } }),
              action('Lint', 'Test', 'CodeBuild', 1, { ProjectName: { Ref: 'Build' } }),
              action('Clean', 'Deploy', 'CloudFormation', 2, { ActionMode: 'DELETE_ONLY' }),
            ],
          },
          { Name: 'Deploy', Actions: [action('Shift', 'Build', 'CodeBuild', 1, { ProjectName: { Ref: 'Deploy' } })] },
        ],
      },
    },
  },
};

test('draws the stages in order, actions by run order, the repository, the deployment group with its configuration and hooks', () => {
  const [diagram] = pipelineDiagrams(template, 'Lab');
  expect(diagram.name).toBe('Pipeline (V2, QUEUED)');
  const edges = diagram.mermaid.split('\n').filter((line) => /-->|==>|-\.->/.test(line)).map((line) => line.trim());
  expect(edges).toEqual([
    'Repo -->|"push to main"| stage_Source_Checkout',
    'stage_Test_Unit --> stage_Test_Clean',
    'stage_Test_Lint --> stage_Test_Clean',
    'stage_Source_Checkout ==> stage_Test_Unit',
    'stage_Source_Checkout ==> stage_Test_Lint',
    'stage_Deploy_Shift -->|"CreateDeployment"| Group["Group<br>CodeDeploy blue/green<br>linear 20 % every 2 min<br>1 alarm rolls back"]',
    'Group -.->|"BeforeAllowTraffic"| Hook["Hook<br>hook function"]',
    'stage_Test_Clean ==> stage_Deploy_Shift',
  ]);
  expect(diagram.mermaid.split('\n').slice(0, 2)).toEqual(['flowchart TD', '  Repo[("Repo")]']);
  expect(diagram.mermaid).toContain('stage_Test_Clean["Clean<br>CloudFormation DELETE_ONLY (deploy)"]');
});

test('a template without a pipeline has no pipeline diagram', () => {
  expect(pipelineDiagrams({ Resources: { Repo: template.Resources.Repo } }, 'Lab')).toEqual([]);
});
