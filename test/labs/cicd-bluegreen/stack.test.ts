import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { parse } from 'yaml';
import { cicdBluegreenLab } from '../../../labs/cicd-bluegreen/lab';
import { withStack } from '../../../labs/support/app';
import { ECS_APP_DIR, ECS_SAMPLE } from '../../../labs/cicd-bluegreen/ecs';
import { ECS_IMAGE_PLACEHOLDER } from '../../../lib/blue-green-pipeline';
import { CicdBluegreenLabStack } from '../../../labs/cicd-bluegreen/stack';
import { CICD_LAB, REPOSITORY_ACCESS, SAMPLE_APP_DIR } from '../../../labs/cicd-bluegreen/constants';
import { featureContextKey } from '../../../labs/support/lab-stack';
import { labTemplate } from '../../support/lab-template';
import { testApp } from '../../support/synth';

type Resource = { Type: string; Properties: Record<string, unknown> };
const lab = withStack(cicdBluegreenLab, CicdBluegreenLabStack);
const template = labTemplate(lab);
const json = template.toJSON() as { Resources: Record<string, Resource>; Outputs: Record<string, unknown> };
const ofType = (type: string) => Object.values(json.Resources).filter((r) => r.Type === type);
const app = (file: string) => readFileSync(path.join(SAMPLE_APP_DIR, file), 'utf8');

describe('the lab stack', () => {
  test('outputs every value the exercise and README use', () => {
    expect(Object.keys(json.Outputs).sort()).toEqual(
      [
        'AfterAllowTrafficHookName', 'AliasName', 'ArtifactBucketName', 'BeforeAllowTrafficHookName', 'BuildProjectName',
        'CodeArtifactDomain', 'CodeArtifactRepository', 'DeploymentApplicationName', 'DeploymentGroupName', 'FunctionName',
        'GreetingParameterName', 'IntegrationTestStackName', 'NotificationTopicArn', 'PipelineName', 'RepositoryCloneUrlGrc',
        'RepositoryName', 'RepositoryArn', 'RepositoryNotificationRuleArn', 'RepositoryNotificationTopicArn', 'DeveloperRoleArn',
        'TrustedAccountId',
      ].sort(),
    );
  });

  test('the build reads the greeting from Parameter Store; no Secrets Manager secret unless the flag is on', () => {
    const build = ofType('AWS::CodeBuild::Project').find((p) => JSON.stringify(p.Properties.Name).includes('Delivery-build'))!;
    const variables = (build.Properties.Environment as { EnvironmentVariables: { Name: string; Type: string }[] }).EnvironmentVariables;
    expect(variables.find((v) => v.Name === 'GREETING')?.Type).toBe('PARAMETER_STORE');
    expect(variables.find((v) => v.Name === 'API_TOKEN')).toBeUndefined();
    expect(ofType('AWS::SecretsManager::Secret')).toHaveLength(0);
    template.hasResourceProperties('AWS::SSM::Parameter', { Type: 'String', Value: CICD_LAB.initialGreeting });
  });

  test('3 alarms, the idle cost the catalogue declares ($0.10 each)', () => {
    expect(ofType('AWS::CloudWatch::Alarm')).toHaveLength(3);
    expect(lab.idleCostUsdPerMonth).toBeCloseTo(0.3);
  });

  test('the live alias is what CodeDeploy shifts, with canary 10% for 5 minutes', () => {
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: CICD_LAB.aliasName });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' });
  });

  test('without the ecs flag: no VPC, load balancer or ECS resources', () => {
    const types = Object.values(json.Resources).map((r) => r.Type);
    expect(types.filter((t) => /^AWS::(EC2|ECS|ElasticLoadBalancingV2)::/.test(t))).toEqual([]);
    expect(ofType('AWS::CodePipeline::Pipeline')).toHaveLength(1);
  });

  test('the artifact bucket empties itself on destroy; report groups delete their reports', () => {
    expect(ofType('Custom::S3AutoDeleteObjects')).toHaveLength(1);
    expect(ofType('AWS::CodeBuild::ReportGroup').every((g) => g.Properties.DeleteReports === true)).toBe(true);
  });
});

describe('repository access', () => {
  const [repositoryId] = Object.entries(json.Resources).find(([, r]) => r.Type === 'AWS::CodeCommit::Repository')!;
  const repositoryArn = { 'Fn::GetAtt': [repositoryId, 'Arn'] };
  const topicId = Object.keys(json.Resources).find((id) => id.startsWith('RepositoryAccessTopic') && json.Resources[id].Type === 'AWS::SNS::Topic')!;
  const roleOf = (t: Template) => Object.entries(t.findResources('AWS::IAM::Role')).find(([id]) => id.startsWith('RepositoryAccessDeveloperRole'))![1] as Resource;

  test('a notification rule sends branch and pull-request events of the repository to its own topic', () => {
    expect(topicId).toBeDefined();
    template.hasResourceProperties('AWS::CodeStarNotifications::NotificationRule', {
      Resource: repositoryArn,
      DetailType: 'BASIC',
      EventTypeIds: [...REPOSITORY_ACCESS.notifiedEvents],
      Targets: [{ TargetType: 'SNS', TargetAddress: { Ref: topicId } }],
    });
  });

  test('the rule is created after the topic policy, so its first delivery check finds the service allowed', () => {
    const entries = Object.entries(json.Resources as Record<string, Resource & { DependsOn?: string[] }>);
    const [[, rule]] = entries.filter(([, r]) => r.Type === 'AWS::CodeStarNotifications::NotificationRule');
    const [[topicPolicyId]] = entries.filter(([, r]) => r.Type === 'AWS::SNS::TopicPolicy' && JSON.stringify(r.Properties.Topics) === JSON.stringify([{ Ref: topicId }]));
    expect(rule.DependsOn).toContain(topicPolicyId);
  });

  test('only CodeStar Notifications of this account may publish to the topic, over TLS; unencrypted without the flag', () => {
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy')).filter((p) => JSON.stringify(p).includes(topicId)) as Resource[];
    const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([
      {
        Sid: 'CodeStarNotificationsOfThisAccountPublish',
        Effect: 'Allow',
        Principal: { Service: 'codestar-notifications.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(json.Resources[topicId].Properties?.KmsMasterKeyId).toBeUndefined();
    expect(ofType('AWS::KMS::Key')).toHaveLength(0);
  });

  test('the developer role: this account by default, Git on this repository only, no push to the protected branch', () => {
    const role = roleOf(template);
    expect(role.Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } } }],
    });
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const [policy] = role.Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[];
    expect(policy.PolicyDocument.Statement).toEqual([
      { Sid: 'PullAndPush', Effect: 'Allow', Action: ['codecommit:GitPull', 'codecommit:GitPush'], Resource: repositoryArn },
      {
        Sid: 'NoPushToProtectedBranch',
        Effect: 'Deny',
        Action: 'codecommit:GitPush',
        Resource: repositoryArn,
        Condition: { StringEqualsIfExists: { 'codecommit:References': ['refs/heads/main'] }, Null: { 'codecommit:References': 'false' } },
      },
    ]);
    // No other policy attaches to the role.
    expect(Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes('RepositoryAccessDeveloperRole'))).toEqual([]);
  });

  test('trusted-account takes a 12-digit account id, nothing shorter or longer', () => {
    const { pattern } = lab.parameters.find((p) => p.name === 'trusted-account')!;
    expect(['111122223333', '11112222333', '1111222233334', 'arn:aws:iam::111122223333:root'].map((v) => pattern.test(v))).toEqual([true, false, false, false]);
  });
});

describe('the sample app the pipeline deploys', () => {
  test('buildspec.yml: version 0.2, the four phases, env of every kind, reports, artifacts and cache', () => {
    const spec = parse(app('buildspec.yml'));
    expect(spec.version).toBe(0.2);
    expect(Object.keys(spec.phases)).toEqual(['install', 'pre_build', 'build', 'post_build']);
    for (const phase of Object.values(spec.phases) as { commands?: unknown[] }[]) {
      expect(Array.isArray(phase.commands) && phase.commands.every((c) => typeof c === 'string')).toBe(true);
    }
    expect(spec.phases.install['runtime-versions']).toEqual({ nodejs: 22 });
    expect(spec.phases.install.commands.join('\n')).toContain('aws codeartifact login --tool npm');
    expect(Object.keys(spec.env)).toEqual(['shell', 'variables', 'exported-variables']);
    expect(spec.env['exported-variables']).toEqual(['RELEASE']);
    expect(spec.reports['unit-tests']).toEqual({ files: ['unit.xml'], 'base-directory': 'reports', 'file-format': 'JUNITXML' });
    expect(spec.artifacts.files).toEqual(expect.arrayContaining(['function.zip', 'appspec.yml', 'buildspec-test.yml', 'integration-test.template.json']));
    expect(spec.cache.paths).toEqual(['/root/.npm/**/*']);
    // The variables the construct provides at project level are used by the build.
    expect(app('buildspec.yml')).toMatch(/\$\{GREETING:-Hello\}/);
  });

  test('buildspec-test.yml: the smoke tests with a JUnit report group', () => {
    const spec = parse(app('buildspec-test.yml'));
    expect(spec.version).toBe(0.2);
    expect(spec.phases.build.commands.join('\n')).toContain('smoke/');
    expect(spec.reports['smoke-tests']['file-format']).toBe('JUNITXML');
  });

  test('the report keys of both buildspecs are the report groups the construct creates', () => {
    const groups = ofType('AWS::CodeBuild::ReportGroup').map((g) => JSON.stringify(g.Properties.Name));
    expect(groups.some((g) => g.includes(`build-${Object.keys(parse(app('buildspec.yml')).reports)[0]}`))).toBe(true);
    expect(groups.some((g) => g.includes(`test-${Object.keys(parse(app('buildspec-test.yml')).reports)[0]}`))).toBe(true);
  });

  test('appspec.yml: a Lambda AppSpec with the keys CodeDeploy requires and both traffic hooks', () => {
    const spec = parse(app('appspec.yml'));
    expect(spec.version).toBe(0); // YAML reads `0.0` as the number 0; CodeDeploy reads the file itself
    expect(app('appspec.yml')).toMatch(/^version: 0\.0$/m);
    expect(spec.Resources).toHaveLength(1);
    const [resource] = Object.values(spec.Resources[0]) as { Type: string; Properties: Record<string, string> }[];
    expect(resource.Type).toBe('AWS::Lambda::Function');
    expect(Object.keys(resource.Properties).sort()).toEqual(['Alias', 'CurrentVersion', 'Name', 'TargetVersion']);
    expect(spec.Hooks.map((h: object) => Object.keys(h)[0])).toEqual(['BeforeAllowTraffic', 'AfterAllowTraffic']);
  });

  test('every placeholder of appspec.yml is one the deploy action fills in', () => {
    const yamlLines = app('appspec.yml').split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n');
    const placeholders = [...yamlLines.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]);
    const deploy = ofType('AWS::CodeBuild::Project').find((p) => String(p.Properties.Description).startsWith('Deploy stage'))!;
    const script = JSON.parse((deploy.Properties.Source as { BuildSpec: string }).BuildSpec).phases.build.commands.join('\n');
    for (const name of placeholders) expect(script).toContain(`s|{{${name}}}|`);
    expect(placeholders.sort()).toEqual(['AfterAllowTrafficHook', 'AliasName', 'BeforeAllowTrafficHook', 'CurrentVersion', 'FunctionName', 'TargetVersion']);
  });

  test('the integration-test template declares the output the smoke tests read', () => {
    const cfn = JSON.parse(app('integration-test.template.json'));
    expect(cfn.Outputs.ParameterName).toBeDefined();
    expect(cfn.Resources.UnderTest.Properties.Name).toEqual({ 'Fn::Sub': '/${AWS::StackName}/under-test' });
  });

  test("the app's own unit tests, appspec check and smoke tests pass as the pipeline runs them", () => {
    const work = mkdtempSync(path.join(tmpdir(), 'cicd-app-'));
    try {
      cpSync(SAMPLE_APP_DIR, work, { recursive: true });
      const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: work, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
      // scripts/check-appspec.js imports `yaml`: resolve it from this repository's node_modules.
      cpSync(path.join(__dirname, '../../../node_modules/yaml'), path.join(work, 'node_modules/yaml'), { recursive: true });
      expect(run(['scripts/check-appspec.js', 'appspec.yml'])).toContain('a Lambda AppSpec with hooks BeforeAllowTraffic, AfterAllowTraffic');
      // Node.js 22+ reads --test arguments as globs (a bare folder no longer works), as the buildspecs write them.
      expect(run(['--test', '--test-reporter=tap', 'test/**/*.test.js'])).toMatch(/# pass 4\n# fail 0/);
      cpSync(path.join(work, 'src'), path.join(work, 'dist'), { recursive: true });
      expect(run(['--test', '--test-reporter=tap', 'smoke/**/*.test.js'])).toMatch(/# pass 2\n# fail 0/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('the repository is seeded with the app folder and nothing built', () => {
    expect(existsSync(path.join(SAMPLE_APP_DIR, 'dist'))).toBe(false);
    expect(existsSync(path.join(SAMPLE_APP_DIR, 'node_modules'))).toBe(false);
    expect(readdirSync(SAMPLE_APP_DIR).sort()).toEqual(
      ['appspec.yml', 'buildspec-test.yml', 'buildspec.yml', 'integration-test.template.json', 'package-lock.json', 'package.json', 'scripts', 'smoke', 'src', 'test'].sort(),
    );
    template.hasResourceProperties('AWS::CodeCommit::Repository', { Code: { BranchName: 'main' } });
  });
});

describe('with -c cicd-bluegreen:ecs=true, encryption=true and trusted-account=111122223333', () => {
  const app = testApp(
    { [featureContextKey(lab.id, 'ecs')]: true, [featureContextKey(lab.id, 'encryption')]: true, [featureContextKey(lab.id, 'trusted-account')]: '111122223333' },
    { builtinCloudFormationValidation: false },
  );
  const ecsTemplate = Template.fromStack(new lab.stack(app, { lab }));
  const ecsJson = ecsTemplate.toJSON() as { Resources: Record<string, Resource>; Outputs: Record<string, unknown> };
  const ecsOfType = (type: string) => Object.entries(ecsJson.Resources).filter(([, r]) => r.Type === type);
  const idOf = (type: string, match: (r: Resource) => boolean) => ecsOfType(type).find(([, r]) => match(r))![0];
  const listenerOn = (port: number) => idOf('AWS::ElasticLoadBalancingV2::Listener', (r) => r.Properties.Port === port);
  const ecsApp = (file: string) => readFileSync(path.join(ECS_APP_DIR, file), 'utf8');
  const ecsBuildProject = () => ecsOfType('AWS::CodeBuild::Project').find(([id]) => id.startsWith('EcsDeliveryBuild'))![1].Properties;
  const targetGroupOf = (listenerId: string) =>
    (ecsJson.Resources[listenerId].Properties.DefaultActions as { TargetGroupArn: { Ref: string } }[])[0].TargetGroupArn.Ref;

  test('public subnets in 2 AZs and no NAT gateway: the tasks pull from ECR Public over their public IP', () => {
    expect(ecsOfType('AWS::EC2::NatGateway')).toHaveLength(0);
    expect(ecsOfType('AWS::EC2::Subnet').map(([, r]) => r.Properties.MapPublicIpOnLaunch)).toEqual([true, true]);
    ecsTemplate.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 1,
      LaunchType: 'FARGATE',
      DeploymentController: { Type: 'CODE_DEPLOY' },
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
    });
    ecsTemplate.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '256',
      Memory: '512',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [Match.objectLike({ Name: ECS_SAMPLE.containerName, Image: ECS_SAMPLE.image })],
    });
  });

  test('a production listener on 80 (blue) and a test listener on 8080 (green)', () => {
    const production = listenerOn(ECS_SAMPLE.productionPort);
    const test = listenerOn(ECS_SAMPLE.testPort);
    expect(ecsOfType('AWS::ElasticLoadBalancingV2::Listener')).toHaveLength(2);
    expect(ecsOfType('AWS::ElasticLoadBalancingV2::TargetGroup')).toHaveLength(2);
    expect(targetGroupOf(production)).not.toEqual(targetGroupOf(test));
  });

  test('the ECS deployment group shifts between both target groups behind both listeners, and rolls back on failure', () => {
    const production = listenerOn(ECS_SAMPLE.productionPort);
    const test = listenerOn(ECS_SAMPLE.testPort);
    ecsTemplate.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
      AutoRollbackConfiguration: Match.objectLike({ Enabled: true }),
      LoadBalancerInfo: {
        TargetGroupPairInfoList: [
          {
            TargetGroups: Match.arrayEquals([
              { Name: { 'Fn::GetAtt': [targetGroupOf(production), 'TargetGroupName'] } },
              { Name: { 'Fn::GetAtt': [targetGroupOf(test), 'TargetGroupName'] } },
            ]),
            ProdTrafficRoute: { ListenerArns: [{ Ref: production }] },
            TestTrafficRoute: { ListenerArns: [{ Ref: test }] },
          },
        ],
      },
    });
  });

  test("the second pipeline's Deploy stage is a CodeDeployToECS action reading taskdef.json and appspec-ecs.yml", () => {
    const pipelines = ecsOfType('AWS::CodePipeline::Pipeline');
    expect(pipelines).toHaveLength(2);
    const ecsPipeline = pipelines.find(([id]) => id.startsWith('Ecs'))![1];
    const stages = ecsPipeline.Properties.Stages as { Name: string; Actions: { ActionTypeId: { Provider: string }; Configuration: Record<string, string> }[] }[];
    expect(stages.map((s) => s.Name)).toEqual(['Source', 'Build', 'Test', 'Deploy']);
    const [deploy] = stages.find((s) => s.Name === 'Deploy')!.Actions;
    expect(deploy.ActionTypeId.Provider).toBe('CodeDeployToECS');
    expect(deploy.Configuration).toMatchObject({ TaskDefinitionTemplatePath: 'taskdef.json', AppSpecTemplatePath: 'appspec-ecs.yml' });
  });

  test('outputs the URLs of both listeners and the names the README uses', () => {
    expect(Object.keys(ecsJson.Outputs)).toEqual(
      expect.arrayContaining(['EcsRepositoryName', 'EcsPipelineName', 'EcsDeploymentApplicationName', 'EcsDeploymentGroupName', 'EcsProductionUrl', 'EcsTestUrl', 'EcsImageRepositoryUri', 'EcsAfterAllowTestTrafficHookName']),
    );
  });

  test('the ECS sample build: builds and pushes the image, writes imageDetail.json, renders every placeholder it owns', () => {
    const build = parse(ecsApp('buildspec.yml'));
    expect(build.version).toBe(0.2);
    expect(build.artifacts.files).toEqual(['taskdef.json', 'imageDetail.json', 'appspec-ecs.yml', 'buildspec-test.yml']);
    const commands: string[] = [...build.phases.pre_build.commands, ...build.phases.build.commands];
    const script = commands.join('\n');
    const order = (pattern: RegExp) => commands.findIndex((c) => pattern.test(c));
    expect(order(/^docker build /)).toBeLessThan(order(/^docker push /));
    expect(order(/^docker push /)).toBeLessThan(order(/imageDetail\.json/));
    expect(script).toContain(`printf '{"ImageURI":"%s"}' "$IMAGE_URI" > imageDetail.json`);

    const placeholders = ['taskdef.template.json', 'appspec-ecs.yml'].flatMap((file) => [...ecsApp(file).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]));
    expect(placeholders).toEqual(expect.arrayContaining(['TaskFamily', 'ExecutionRoleArn', 'AfterAllowTestTrafficHook']));
    for (const name of placeholders) expect(script).toContain(`s|{{${name}}}|`);
    const variables = (ecsBuildProject().Environment as { EnvironmentVariables: { Name: string }[] }).EnvironmentVariables.map((v) => v.Name);
    const setByScript = new Set(['RELEASE', 'IMAGE_URI']);
    const used = [...script.matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]).filter((n) => !/^(AWS|CODEBUILD)_/.test(n) && !setByScript.has(n));
    expect(used.length).toBeGreaterThan(5);
    for (const name of used) expect(variables).toContain(name);
  });

  test('the task definition leaves its image to the deploy action, which fills <IMAGE1_NAME> from imageDetail.json', () => {
    const taskdef = JSON.parse(ecsApp('taskdef.template.json'));
    expect(taskdef.containerDefinitions[0]).toMatchObject({ name: '{{ContainerName}}', image: `<${ECS_IMAGE_PLACEHOLDER}>` });
    expect(taskdef.runtimePlatform).toEqual({ cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' });
    expect(ecsBuildProject().Environment).toMatchObject({ Image: expect.stringContaining('aarch64'), PrivilegedMode: true });
    const dockerfile = ecsApp('Dockerfile');
    expect(dockerfile).toMatch(/^FROM public\.ecr\.aws\/nginx\/nginx:/m);
    expect(dockerfile).toMatch(/^COPY release-page\.sh \/docker-entrypoint\.d\/\S+\.sh$/m);
  });

  test('the AppSpec names the container and the AfterAllowTestTraffic hook, which requests /version.json on the test listener', () => {
    const appspec = parse(ecsApp('appspec-ecs.yml'));
    expect(ecsApp('appspec-ecs.yml')).toMatch(/^version: 0\.0$/m);
    expect(appspec.Resources[0].TargetService).toEqual({
      Type: 'AWS::ECS::Service',
      Properties: { TaskDefinition: '<TASK_DEFINITION>', LoadBalancerInfo: { ContainerName: ECS_SAMPLE.containerName, ContainerPort: ECS_SAMPLE.productionPort } },
    });
    expect(appspec.Hooks).toEqual([{ AfterAllowTestTraffic: '{{AfterAllowTestTrafficHook}}' }]);
    const [hookId, hook] = ecsOfType('AWS::Lambda::Function').find(([id]) => id.includes('AfterAllowTestTraffic'))!;
    const variables = (hook.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      TEST_URL: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [expect.stringMatching(/^EcsLoadBalancer/), 'DNSName'] }, `:${ECS_SAMPLE.testPort}${ECS_SAMPLE.versionPath}`]] },
      EXPECT_TASK_DEFINITION: 'true',
    });
    const hookVariable = (ecsBuildProject().Environment as { EnvironmentVariables: { Name: string; Value: unknown }[] }).EnvironmentVariables.find((v) => v.Name === 'AFTER_ALLOW_TEST_TRAFFIC_HOOK');
    expect(hookVariable?.Value).toEqual({ Ref: hookId });
  });

  test('the test buildspec checks the rendered output', () => {
    const test = parse(ecsApp('buildspec-test.yml'));
    expect(test.version).toBe(0.2);
    const commands: string[] = test.phases.build.commands;
    expect(commands.every((c) => typeof c === 'string')).toBe(true);
    expect(commands.join('\n')).toMatch(/imageDetail\.json/);
    expect(commands.join('\n')).toMatch(/AfterAllowTestTraffic:/);
  });

  test('encryption: a rotated customer managed key encrypts the notifications topic and lets CodeStar Notifications use it through SNS', () => {
    const [keyId, key] = ecsOfType('AWS::KMS::Key')[0];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    ecsTemplate.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    expect((key.Properties.KeyPolicy as { Statement: unknown[] }).Statement).toContainEqual({
      Sid: 'CodeStarNotificationsPublishToTheEncryptedTopic',
      Effect: 'Allow',
      Principal: { Service: 'codestar-notifications.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['sns.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
    });
  });

  test('trusted-account: the developer role trusts that account, and the output names it', () => {
    ecsTemplate.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] } } })] },
    });
    expect(ecsJson.Outputs.TrustedAccountId).toMatchObject({ Value: '111122223333' });
  });
});
