import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CfnTemplate, label, mermaidDiagram, referencedIds } from '../../labs/support/diagram';
import { defineLab } from '../../labs/support/define-lab';
import { mermaidBlocks } from '../../labs/support/diagram-check';
import { renderLabArchitecture } from '../../labs/support/docs';
import { testApp } from '../support/synth';

const app = testApp({ 'aws:cdk:enable-path-metadata': true }, { builtinCloudFormationValidation: false });
const stack = new Stack(app, 'Shop');
const dlq = new sqs.Queue(stack, 'OrdersDlq');
const queue = new sqs.Queue(stack, 'Orders', { deadLetterQueue: { queue: dlq, maxReceiveCount: 4 } });
const topic = new sns.Topic(stack, 'Events');
topic.addSubscription(
  new subscriptions.SqsSubscription(queue, {
    filterPolicy: { kind: sns.SubscriptionFilter.stringFilter({ allowlist: ['order'] }) },
  }),
);
const table = new dynamodb.TableV2(stack, 'Totals', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
const worker = new lambda.Function(stack, 'Worker', {
  runtime: lambda.Runtime.NODEJS_24_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('exports.handler = async () => {}'),
});
worker.addEventSource(new SqsEventSource(queue));
table.grantWriteData(worker);

const template = Template.fromStack(stack).toJSON() as CfnTemplate;
const { mermaid: diagram } = mermaidDiagram(template, 'Shop');
const [orders, ordersDlq, events, totals, fn] = ['Orders', 'OrdersDlq', 'Events', 'Totals', 'Worker'];

test('groups nodes by service, named and labelled by construct path', () => {
  expect(diagram).toMatch(/^flowchart TB\n/);
  expect(diagram).toContain(`  subgraph SQS\n    ${orders}["Orders"]`);
  expect(diagram).toContain(`    ${ordersDlq}["OrdersDlq"]`);
});

test('draws the data paths: subscription with its filter, event source, redrive', () => {
  expect(diagram).toContain(`${events} -->|"sqs (filtered)"| ${orders}`);
  expect(diagram).toContain(`${orders} -->|"event source"| ${fn}`);
  expect(diagram).toContain(`${orders} -.->|"redrive after 4 receives"| ${ordersDlq}`);
});

test('draws an IAM grant as an arrow from the function to the resource, once per pair', () => {
  expect(diagram).toMatch(new RegExp(`${fn} -->\\|"dynamodb:\\w+ \\+\\d+"\\| ${totals}`));
  expect(diagram.match(new RegExp(`${fn}.*${orders}|${orders}.*${fn}`, 'g'))).toHaveLength(1);
});

test('leaves plumbing out: roles, policies, queue policies, subscriptions, metadata', () => {
  for (const hidden of ['Worker/ServiceRole', 'DefaultPolicy', 'OrdersDlq/Policy', 'Orders/Policy', 'Subscription', 'CDKMetadata']) {
    expect(diagram).not.toContain(hidden);
  }
});

test('finds references in Ref, Fn::GetAtt and Fn::Sub', () => {
  expect(referencedIds({ 'Fn::Sub': ['arn:${Bucket.Arn}/*', {}] })).toEqual(['Bucket']);
  expect(referencedIds({ a: [{ Ref: 'A' }, { 'Fn::GetAtt': ['B', 'Arn'] }], c: { 'Fn::Sub': 'arn:${C.Arn}/${D}' } })).toEqual([
    'A',
    'B',
    'C',
    'D',
  ]);
});

test('folds resources of one kind with the same arrows, names the ones without an arrow, draws a part with its context', () => {
  const fanOut = new Stack(testApp({ 'aws:cdk:enable-path-metadata': true }, { builtinCloudFormationValidation: false }), 'Fan');
  const topic = new sns.Topic(fanOut, 'Topic');
  for (const name of ['A', 'B', 'C']) topic.addSubscription(new subscriptions.SqsSubscription(new sqs.Queue(fanOut, name)));
  new sqs.Queue(fanOut, 'Alone');
  const fanOutTemplate = Template.fromStack(fanOut).toJSON() as CfnTemplate;
  const view = mermaidDiagram(fanOutTemplate, 'Fan');
  expect(view.mermaid).toContain('    A["3 × Queue<br>A<br>B<br>C"]');
  expect(view.mermaid).toContain('  Topic -->|"sqs"| A');
  expect(view.mermaid.match(/-->/g)).toHaveLength(1);
  expect(view.standalone).toEqual(['Alone']);

  const part = mermaidDiagram(fanOutTemplate, 'Fan', { paths: new Set(['A']), withContext: true });
  expect(part.mermaid).toContain('  class Topic context');
  expect(part.mermaid).not.toContain('Alone');
});

test('leaves out what other arrows imply, and writes a part of one resource inside its box', () => {
  const at = (path: string) => ({ 'aws:cdk:path': `Cfg/${path}/Resource` });
  const app = { Type: 'AWS::AppConfig::Application', Metadata: at('App'), Properties: {} };
  const ofApp = { ApplicationId: { Ref: 'App' } };
  const resources = {
    App: app,
    Env: { Type: 'AWS::AppConfig::Environment', Metadata: at('Env'), Properties: ofApp },
    Profile: { Type: 'AWS::AppConfig::ConfigurationProfile', Metadata: at('Profile'), Properties: ofApp },
    Version: { Type: 'AWS::AppConfig::HostedConfigurationVersion', Metadata: at('Profile/Version'), Properties: { ...ofApp, ConfigurationProfileId: { Ref: 'Profile' } } },
    Deployment: {
      Type: 'AWS::AppConfig::Deployment',
      Metadata: at('Deployment'),
      Properties: { ...ofApp, EnvironmentId: { Ref: 'Env' }, ConfigurationProfileId: { Ref: 'Profile' } },
    },
    Role: { Type: 'AWS::IAM::Role', Metadata: at('Role'), Properties: {} },
    Reader: { Type: 'AWS::Lambda::Function', Metadata: at('Reader'), Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
    Policy: {
      Type: 'AWS::IAM::Policy',
      Metadata: at('Policy'),
      Properties: {
        Roles: [{ Ref: 'Role' }],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: 'appconfig:GetLatestConfiguration',
              Resource: [{ 'Fn::Sub': 'arn:aws:appconfig:*:*:application/${App}' }, { 'Fn::Sub': 'arn:aws:appconfig:*:*:application/${App}/environment/${Env}' }],
            },
          ],
        },
      },
    },
  } as CfnTemplate['Resources'];
  const mermaid = `${mermaidDiagram({ Resources: resources }, 'Cfg').mermaid}\n`;

  // The deployment's reference to the application is implied by its environment's; so is the grant on the application.
  expect(mermaid).toContain('  Deployment --> Env\n');
  expect(mermaid).toContain('  Deployment --> Profile\n');
  expect(mermaid).not.toContain('Deployment --> App\n');
  expect(mermaid).toContain('  Reader -->|"appconfig:GetLatestConfiguration"| Env\n');
  expect(mermaid).not.toMatch(/Reader -->\|[^|]*\| App\n/);
  // The version is part of its profile: a line in the profile's box, no box or arrow of its own.
  expect(mermaid).toContain('    Profile["Profile<br>+ Version"]');
  expect(mermaid).not.toMatch(/Version(\[|\s*-->)/);

  // In the view of an optional part, what the part adds keeps its own box even when it belongs to a context resource.
  const part = `${mermaidDiagram({ Resources: resources }, 'Cfg', { paths: new Set(['Profile/Version']), withContext: true }).mermaid}\n`;
  expect(part).toContain('  Profile_Version --> Profile\n');
  expect(part).toContain('  class App,Profile context');
});

test('a part a lab draws apart leaves the first picture for its own, where a notification rule carries the events', () => {
  const at = (path: string) => ({ 'aws:cdk:path': `Ci/${path}/Resource` });
  const resources: CfnTemplate['Resources'] = {
    Repo: { Type: 'AWS::CodeCommit::Repository', Metadata: at('Repo'), Properties: {} },
    Build: { Type: 'AWS::CodeBuild::Project', Metadata: at('Build'), Properties: { Source: { Location: { 'Fn::GetAtt': ['Repo', 'CloneUrlHttp'] } } } },
    AccessTopic: { Type: 'AWS::SNS::Topic', Metadata: at('Access/Topic'), Properties: {} },
    AccessRule: {
      Type: 'AWS::CodeStarNotifications::NotificationRule',
      Metadata: at('Access/Rule'),
      Properties: { Resource: { 'Fn::GetAtt': ['Repo', 'Arn'] }, Targets: [{ TargetType: 'SNS', TargetAddress: { Ref: 'AccessTopic' } }] },
    },
  };
  const lab = defineLab({
    id: 'ci',
    title: 'CI',
    stackName: 'Ci',
    seedTopics: [],
    idleCostUsdPerMonth: 0,
    separateViews: { Access: 'Repository access' },
    loadStack: () => Promise.reject(new Error('not loaded')),
    loadExercise: () => Promise.reject(new Error('not loaded')),
  });
  const page = renderLabArchitecture(lab, { Resources: resources }, new Set());
  const [first, apart] = mermaidBlocks(page, 'page').map((block) => `${block.source}\n`);

  expect(first).toContain('    Repo["Repo"]');
  expect(first).not.toContain('Access_');
  expect(page).toContain('### Repository access\n\nThe resources under `Access`');
  expect(apart).toContain('  Repo -.->|"events"| Access_Rule\n');
  expect(apart).toContain('  Access_Rule -->|"target"| Access_Topic\n');
  expect(apart).toContain('  class Repo context');
  expect(apart).not.toContain('Build');
});

describe('a template written by hand', () => {
  const at = (path: string) => ({ 'aws:cdk:path': `App/${path}/Resource` });
  const r = (Type: string, path: string, Properties?: Record<string, unknown>) => ({ Type, Metadata: at(path), Properties });
  const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
  const boxes = (...services: [string, ...string[]][]) =>
    services.flatMap(([service, ...nodes]) => [`  subgraph ${service}`, ...nodes.map((node) => `    ${node}`), '  end']);

  test('draws every data path: destinations, dead letters, subscriptions, tasks, targets, notifications, origins, integrations, grants', () => {
    const resources: CfnTemplate['Resources'] = {
      Fn: r('AWS::Lambda::Function', 'Fn', { Role: arn('FnRole'), DeadLetterConfig: { TargetArn: arn('FnDlq') } }),
      FnRole: r('AWS::IAM::Role', 'Fn/ServiceRole'),
      FnDlq: r('AWS::SQS::Queue', 'FnDlq'),
      Src: r('AWS::Kinesis::Stream', 'Src'),
      Esm: r('AWS::Lambda::EventSourceMapping', 'Esm', {
        EventSourceArn: arn('Src'),
        FunctionName: { Ref: 'Fn' },
        DestinationConfig: { OnFailure: { Destination: arn('Failed') } },
      }),
      Failed: r('AWS::SNS::Topic', 'Failed'),
      Invoke: r('AWS::Lambda::EventInvokeConfig', 'Invoke', {
        FunctionName: { Ref: 'Fn' },
        DestinationConfig: { OnSuccess: { Destination: arn('Done') }, OnFailure: { Destination: arn('InvokeFailed') } },
      }),
      Done: r('AWS::SQS::Queue', 'Done'),
      InvokeFailed: r('AWS::SQS::Queue', 'InvokeFailed'),
      Sub: r('AWS::SNS::Subscription', 'Sub', { TopicArn: { Ref: 'Failed' }, Endpoint: arn('Mail'), RedrivePolicy: { deadLetterTargetArn: arn('Undelivered') } }),
      Mail: r('AWS::SQS::Queue', 'Mail'),
      Undelivered: r('AWS::SQS::Queue', 'Undelivered'),
      Sm: r('AWS::StepFunctions::StateMachine', 'Sm', { RoleArn: arn('SmRole'), DefinitionString: { 'Fn::Join': ['', ['{"Resource":"', arn('Fn'), '"}']] } }),
      SmRole: r('AWS::IAM::Role', 'Sm/Role'),
      SmPolicy: r('AWS::IAM::Policy', 'Sm/Role/DefaultPolicy', {
        Roles: [{ Ref: 'SmRole' }],
        PolicyDocument: {
          Statement: [{ Action: ['sqs:SendMessage', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'], Resource: arn('Done') }, { Resource: arn('Mail') }],
        },
      }),
      Rule: r('AWS::Events::Rule', 'Rule', { EventPattern: { source: ['aws.s3'], detail: { bucket: { name: [{ Ref: 'Bucket' }] } } }, Targets: [{ Arn: { Ref: 'Sm' } }] }),
      Bucket: r('AWS::S3::Bucket', 'Bucket'),
      Notif: r('Custom::S3BucketNotifications', 'Bucket/Notifications', { BucketName: { Ref: 'Bucket' }, NotificationConfiguration: { QueueConfigurations: [{ QueueArn: arn('Done') }] } }),
      Cdn: r('AWS::CloudFront::Distribution', 'Cdn', {
        DistributionConfig: { Origins: [{ DomainName: { 'Fn::GetAtt': ['Bucket', 'RegionalDomainName'] } }], WebACLId: arn('Acl'), Aliases: { Ref: 'AWS::NoValue' } },
      }),
      Acl: r('AWS::WAFv2::WebACL', 'Acl'),
      Api: r('AWS::ApiGateway::RestApi', 'Api'),
      Get: r('AWS::ApiGateway::Method', 'Api/Default/GET', {
        RestApiId: { Ref: 'Api' },
        HttpMethod: 'GET',
        Integration: { Uri: { 'Fn::Sub': 'arn:aws:apigateway:${AWS::Region}:lambda:path/functions/${Fn.Arn}/invocations' } },
      }),
    };
    expect(mermaidDiagram({ Resources: resources }, 'App')).toEqual({
      mermaid: [
        'flowchart TB',
        ...boxes(
          ['ApiGateway', 'Api["Api"]'],
          ['CloudFront', 'Cdn["Cdn"]'],
          ['Events', 'Rule["Rule"]'],
          ['Kinesis', 'Src["Src"]'],
          ['Lambda', 'Fn["Fn"]'],
          ['S3', 'Bucket["Bucket"]'],
          ['SNS', 'Failed["Failed"]'],
          ['SQS', 'Done["Done"]', 'FnDlq["FnDlq"]', 'InvokeFailed["InvokeFailed"]', 'Mail["Mail"]', 'Undelivered["Undelivered"]'],
          ['StepFunctions', 'Sm["Sm"]'],
          ['WAFv2', 'Acl["Acl"]'],
        ),
        '  Fn -.->|"dead letters"| FnDlq',
        '  Src -->|"event source"| Fn',
        '  Fn -.->|"on failure"| Failed',
        '  Fn -.->|"on success"| Done',
        '  Fn -.->|"on failure"| InvokeFailed',
        '  Failed -->|"subscription"| Mail',
        '  Failed -.->|"undeliverable"| Undelivered',
        '  Sm -->|"task"| Fn',
        '  Rule -->|"target"| Sm',
        '  Bucket -->|"event notification"| Done',
        '  Cdn -->|"origin"| Bucket',
        '  Cdn -->|"uses"| Acl',
        '  Api -->|"GET integration"| Fn',
        '  Sm -->|"sqs:SendMessage +2"| Done',
        '  Sm --> Mail',
        '  Bucket -.->|"events"| Rule',
      ].join('\n'),
      standalone: [],
      nodeCount: 14,
    });
  });

  test('draws pipelines, listeners, services and alarms; leaves custom resources and CDK providers out; names hashed and quoted paths plainly', () => {
    const resources: CfnTemplate['Resources'] = {
      Repo: r('AWS::CodeCommit::Repository', 'Repo'),
      Build: r('AWS::CodeBuild::Project', 'Build'),
      // Only a function's or a state machine's role grants draw arrows: the pipeline's role does not.
      PipeRole: r('AWS::IAM::Role', 'Pipe/Role'),
      PipePolicy: r('AWS::IAM::Policy', 'Pipe/Role/DefaultPolicy', { Roles: [{ Ref: 'PipeRole' }], PolicyDocument: { Statement: [{ Action: 's3:GetObject', Resource: arn('Artifacts') }] } }),
      Artifacts: r('AWS::S3::Bucket', 'Artifacts'),
      Pipe: r('AWS::CodePipeline::Pipeline', 'Pipe', {
        RoleArn: arn('PipeRole'),
        Stages: [
          { Name: 'Source', Actions: [{ Name: 'Checkout', ActionTypeId: { Category: 'Source' }, Configuration: { RepositoryName: { 'Fn::GetAtt': ['Repo', 'Name'] } } }] },
          {
            Name: 'Build',
            Actions: [
              { Name: 'Compile', ActionTypeId: { Category: 'Build' }, Configuration: { ProjectName: { Ref: 'Build' } } },
              { Name: 'Approve', ActionTypeId: { Category: 'Approval' } },
            ],
          },
        ],
      }),
      Lb: r('AWS::ElasticLoadBalancingV2::LoadBalancer', 'Lb'),
      Listener: r('AWS::ElasticLoadBalancingV2::Listener', 'Lb/Http', { LoadBalancerArn: { Ref: 'Lb' }, Port: 80, DefaultActions: [{ TargetGroupArn: { Ref: 'Tg' } }] }),
      Tg: r('AWS::ElasticLoadBalancingV2::TargetGroup', 'Tg'),
      Svc: r('AWS::ECS::Service', 'Svc', { LoadBalancers: [{ TargetGroupArn: { Ref: 'Tg' } }] }),
      Alarm: r('AWS::CloudWatch::Alarm', 'Errors', { OKActions: [{ Ref: 'Ops' }], Metrics: [{ MetricStat: { Metric: { Dimensions: [{ Value: { Ref: 'Svc' } }] } } }] }),
      Ops: r('AWS::SNS::Topic', 'Ops'),
      Custom: r('Custom::Thing', 'Thing'),
      Cfn: r('AWS::CloudFormation::CustomResource', 'Other'),
      Provider: r('AWS::Lambda::Function', 'LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a'),
      Framework: r('AWS::Lambda::Function', 'Provider/framework-onEvent'),
      Hashed: r('AWS::Events::Rule', 'Pipe0FD75F20-main-EventRule'),
      Quoted: r('AWS::SQS::Queue', 'Say "hi"'),
      Unnamed: { Type: 'AWS::SNS::Topic' },
    };
    expect(mermaidDiagram({ Resources: resources }, 'App')).toEqual({
      mermaid: [
        'flowchart TB',
        ...boxes(
          ['CloudWatch', 'Errors["Errors"]'],
          ['CodeBuild', 'Build["Build"]'],
          ['CodeCommit', 'Repo["Repo"]'],
          ['CodePipeline', 'Pipe["Pipe"]'],
          ['ECS', 'Svc["Svc"]'],
          ['ElasticLoadBalancingV2', 'Lb["Lb"]', 'Lb_Http["Lb/Http"]', 'Tg["Tg"]'],
          ['Events', 'main_EventRule["main-EventRule"]'],
          ['S3', 'Artifacts["Artifacts"]'],
          ['SNS', 'Ops["Ops"]', 'Unnamed["Unnamed"]'],
          ['SQS', 'Say__hi_["Say \'hi\'"]'],
        ),
        '  Repo -->|"source"| Pipe',
        '  Pipe -->|"Compile"| Build',
        '  Lb -->|"listener :80"| Lb_Http',
        '  Lb_Http -->|"forward"| Tg',
        '  Tg -->|"targets"| Svc',
        '  Errors -->|"notify"| Ops',
        '  Svc -.->|"metric"| Errors',
        '  Artifacts ~~~ Say__hi_',
        '  Say__hi_ ~~~ Unnamed',
        '  Unnamed ~~~ main_EventRule',
      ].join('\n'),
      standalone: ['Artifacts', 'Say \'hi\'', 'Unnamed', 'main-EventRule'],
      nodeCount: 13,
    });
  });

  test('folds queues with dead-letter queues of their own from five pairs on, and alarms and rules notifying one topic from four on', () => {
    const resources: CfnTemplate['Resources'] = {};
    for (const n of ['A', 'B', 'C', 'D', 'E']) {
      resources[`Q${n}`] = r('AWS::SQS::Queue', `Q${n}`, { RedrivePolicy: { deadLetterTargetArn: arn(`D${n}`), maxReceiveCount: 3 } });
      resources[`D${n}`] = r('AWS::SQS::Queue', `Q${n}Dlq`);
    }
    resources.Topic = r('AWS::SNS::Topic', 'Alerts');
    for (const n of ['1', '2', '3']) resources[`Al${n}`] = r('AWS::CloudWatch::Alarm', `Alarm${n}`, { AlarmActions: [{ Ref: 'Topic' }], Dimensions: [{ Value: { Ref: 'QA' } }] });
    resources.Rl = r('AWS::Events::Rule', 'Rule1', { Targets: [{ Arn: { Ref: 'Topic' } }] });
    expect(mermaidDiagram({ Resources: resources }, 'App').mermaid).toBe(
      [
        'flowchart TB',
        ...boxes(
          ['CloudWatch', 'Alarm1["3 × Alarm, 1 × Rule<br>Alarm1<br>Alarm2<br>Alarm3<br>Rule1"]'],
          ['SNS', 'Alerts["Alerts"]'],
          ['SQS', 'QA["5 × Queue<br>QA<br>QB<br>QC<br>QD<br>QE<br>each: redrive after 3 receives<br>→ its DLQ"]'],
        ),
        '  Alarm1 -->|"notify"| Alerts',
        '  Alarm1 -->|"target"| Alerts',
      ].join('\n'),
    );

    const fewer = Object.fromEntries(Object.entries(resources).filter(([id]) => !['QE', 'DE', 'Rl'].includes(id)));
    expect(mermaidDiagram({ Resources: fewer }, 'App').mermaid).toBe(
      [
        'flowchart TB',
        ...boxes(
          ['CloudWatch', 'Alarm1["3 × Alarm<br>Alarm1<br>Alarm2<br>Alarm3"]'],
          ['SNS', 'Alerts["Alerts"]'],
          ['SQS', 'QA["QA"]', 'QADlq["QADlq"]', 'QB["QB"]', 'QBDlq["QBDlq"]', 'QC["QC"]', 'QCDlq["QCDlq"]', 'QD["QD"]', 'QDDlq["QDDlq"]'],
        ),
        '  QA -.->|"redrive after 3 receives"| QADlq',
        '  QB -.->|"redrive after 3 receives"| QBDlq',
        '  QC -.->|"redrive after 3 receives"| QCDlq',
        '  QD -.->|"redrive after 3 receives"| QDDlq',
        '  Alarm1 -->|"notify"| Alerts',
        '  QA -.->|"metric"| Alarm1',
      ].join('\n'),
    );
  });

  test('a folded dead-letter queue is named in its queue\'s box, or counted when a topic has several', () => {
    const resources: CfnTemplate['Resources'] = {
      Fn: r('AWS::Lambda::Function', 'Fn'),
      Topic: r('AWS::SNS::Topic', 'Topic'),
      Consumer: r('AWS::Lambda::EventSourceMapping', 'Consumer', { EventSourceArn: arn('QE'), FunctionName: { Ref: 'Fn' } }),
    };
    for (const n of ['A', 'B', 'C', 'D', 'E']) {
      resources[`Q${n}`] = r('AWS::SQS::Queue', `Q${n}`, { RedrivePolicy: { deadLetterTargetArn: arn(`D${n}`), maxReceiveCount: 3 } });
      resources[`D${n}`] = r('AWS::SQS::Queue', `Q${n}Dlq`);
    }
    for (const n of ['1', '2']) {
      resources[`Sub${n}`] = r('AWS::SNS::Subscription', `Sub${n}`, {
        TopicArn: { Ref: 'Topic' },
        Protocol: 'lambda',
        Endpoint: arn('Fn'),
        FilterPolicy: {},
        RedrivePolicy: { deadLetterTargetArn: arn(`Und${n}`) },
      });
      resources[`Und${n}`] = r('AWS::SQS::Queue', `Undeliverable${n}`);
    }
    expect(mermaidDiagram({ Resources: resources }, 'App').mermaid).toBe(
      [
        'flowchart TB',
        ...boxes(
          ['Lambda', 'Fn["Fn"]'],
          ['SNS', 'Topic["Topic<br>undeliverable<br>→ 2 DLQs"]'],
          ['SQS', 'QA["4 × Queue<br>QA<br>QB<br>QC<br>QD<br>each: redrive after 3 receives<br>→ its DLQ"]', 'QE["QE<br>redrive after 3 receives<br>→ QEDlq"]'],
        ),
        '  QE -->|"event source"| Fn',
        '  Topic -->|"lambda (filtered)"| Fn',
      ].join('\n'),
    );
  });

  test('a part without its context draws only its own resources; with it, the ones they join, never folded with its own', () => {
    const resources: CfnTemplate['Resources'] = {
      Topic: r('AWS::SNS::Topic', 'Topic'),
      Fn: r('AWS::Lambda::Function', 'Fn'),
      Other: r('AWS::Lambda::Function', 'Other'),
      Key: r('AWS::KMS::Key', 'Key'),
      Sub: r('AWS::SNS::Subscription', 'Sub', { TopicArn: { Ref: 'Topic' }, Protocol: 'lambda', Endpoint: arn('Fn') }),
      Sub2: r('AWS::SNS::Subscription', 'Sub2', { TopicArn: { Ref: 'Topic' }, Protocol: 'lambda', Endpoint: arn('Other') }),
      Queue: r('AWS::SQS::Queue', 'Queue', { KmsMasterKeyId: { Ref: 'Key' } }),
    };
    const paths = new Set(['Topic', 'Fn', 'Queue']);
    expect(mermaidDiagram({ Resources: resources }, 'App', { paths, withContext: false })).toEqual({
      mermaid: ['flowchart TB', ...boxes(['Lambda', 'Fn["Fn"]'], ['SNS', 'Topic["Topic"]'], ['SQS', 'Queue["Queue"]']), '  Topic -->|"lambda"| Fn'].join('\n'),
      standalone: ['Queue'],
      nodeCount: 3,
    });
    expect(mermaidDiagram({ Resources: resources }, 'App', { paths, withContext: true })).toEqual({
      mermaid: [
        'flowchart TB',
        ...boxes(['KMS', 'Key["Key"]'], ['Lambda', 'Fn["Fn"]', 'Other["Other"]'], ['SNS', 'Topic["Topic"]'], ['SQS', 'Queue["Queue"]']),
        '  classDef context stroke-dasharray: 4 4,fill:#eee',
        '  class Key,Other context',
        '  Topic -->|"lambda"| Fn',
        '  Topic -->|"lambda"| Other',
        '  Queue --> Key',
      ].join('\n'),
      standalone: [],
      nodeCount: 5,
    });
  });

  test('a grant is implied only by the same grant of the same holder to a resource that belongs to the target', () => {
    const grant = (role: string, statements: { Action: string; Resource: unknown }[]) =>
      r('AWS::IAM::Policy', `${role}/Policy`, { Roles: [{ Ref: role }], PolicyDocument: { Statement: statements } });
    const resources: CfnTemplate['Resources'] = {
      App: r('AWS::AppConfig::Application', 'App'),
      Env: r('AWS::AppConfig::Environment', 'Env', { ApplicationId: { Ref: 'App' } }),
      Role1: r('AWS::IAM::Role', 'Role1'),
      Role2: r('AWS::IAM::Role', 'Role2'),
      Reader1: r('AWS::Lambda::Function', 'Reader1', { Role: arn('Role1') }),
      Reader2: r('AWS::Lambda::Function', 'Reader2', { Role: arn('Role2') }),
      Policy1: grant('Role1', [
        { Action: 'appconfig:GetLatestConfiguration', Resource: { Ref: 'Env' } },
        { Action: 'appconfig:StartConfigurationSession', Resource: { Ref: 'App' } },
      ]),
      Policy2: grant('Role2', [{ Action: 'appconfig:GetLatestConfiguration', Resource: { Ref: 'App' } }]),
    };
    expect(mermaidDiagram({ Resources: resources }, 'App').mermaid).toBe(
      [
        'flowchart TB',
        ...boxes(['AppConfig', 'App["App"]', 'Env["Env"]'], ['Lambda', 'Reader1["Reader1"]', 'Reader2["Reader2"]']),
        '  Reader1 -->|"appconfig:GetLatestConfiguration"| Env',
        '  Reader1 -->|"appconfig:StartConfigurationSession"| App',
        '  Reader2 -->|"appconfig:GetLatestConfiguration"| App',
        '  Env --> App',
      ].join('\n'),
    );
  });

  test('draws none of the plumbing types, custom resources or CDK providers', () => {
    const hidden = [
      'AWS::CDK::Metadata', 'AWS::IAM::Policy', 'AWS::IAM::Role', 'AWS::IAM::ManagedPolicy', 'AWS::Logs::LogGroup', 'AWS::Lambda::Permission',
      'AWS::Lambda::EventSourceMapping', 'AWS::Lambda::EventInvokeConfig', 'AWS::SNS::Subscription', 'AWS::SNS::TopicPolicy', 'AWS::SQS::QueuePolicy',
      'AWS::S3::BucketPolicy', 'AWS::KMS::Alias', 'AWS::ApiGateway::Account', 'AWS::ApiGateway::Deployment', 'AWS::ApiGateway::Method',
      'AWS::ApiGateway::Resource', 'AWS::ApiGateway::Model', 'AWS::ApiGateway::RequestValidator', 'AWS::ApplicationAutoScaling::ScalableTarget',
      'AWS::ApplicationAutoScaling::ScalingPolicy', 'AWS::EC2::SecurityGroupIngress', 'AWS::EC2::SecurityGroupEgress',
      'AWS::EC2::SubnetRouteTableAssociation', 'AWS::EC2::Route', 'AWS::EC2::VPCGatewayAttachment', 'AWS::EC2::Subnet', 'AWS::EC2::RouteTable',
      'AWS::EC2::InternetGateway', 'AWS::EC2::FlowLog', 'AWS::EC2::SecurityGroup', 'AWS::DAX::SubnetGroup', 'AWS::CodeDeploy::Application',
      'AWS::Cognito::ManagedLoginBranding', 'Custom::Anything', 'AWS::CloudFormation::CustomResource',
    ];
    const resources: CfnTemplate['Resources'] = Object.fromEntries(hidden.map((type, i) => [`Hidden${i}`, r(type, `Hidden${i}`)]));
    for (const path of ['Provider/CustomResourceProvider', 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834', 'AWS679f53fac002430cb0da5b7982bd2287', 'Provider/framework-onTimeout', 'Provider/framework-onIsComplete']) {
      resources[path.replace(/\W/g, '')] = r('AWS::Lambda::Function', path);
    }
    resources.Queue = r('AWS::SQS::Queue', 'Queue');
    expect(mermaidDiagram({ Resources: resources }, 'App')).toEqual({ mermaid: ['flowchart TB', ...boxes(['SQS', 'Queue["Queue"]'])].join('\n'), standalone: ['Queue'], nodeCount: 1 });
  });

  test('the label of a resource is its construct path in the stack, without its hash, or its logical id', () => {
    const resources = {
      Plain: r('AWS::SQS::Queue', 'Orders'),
      Default: { Type: 'AWS::SQS::Queue', Metadata: { 'aws:cdk:path': 'App/Api/Default' } },
      Deep: { Type: 'AWS::SQS::Queue', Metadata: { 'aws:cdk:path': 'App/Api/Resource/Inner' } },
      Other: { Type: 'AWS::SQS::Queue', Metadata: { 'aws:cdk:path': 'OtherStack/Thing/Resource' } },
      Bare: { Type: 'AWS::SQS::Queue', Metadata: { 'aws:cdk:path': 42 } },
      Short: r('AWS::SQS::Queue', 'Stage1-Deploy'),
    };
    expect(Object.keys(resources).map((id) => label(resources, id, 'App'))).toEqual(['Orders', 'Api', 'Api/Resource/Inner', 'OtherStack/Thing', 'Bare', 'Stage1-Deploy']);
  });
});
