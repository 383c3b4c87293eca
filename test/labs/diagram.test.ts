import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CfnTemplate, mermaidDiagram, referencedIds } from '../../labs/support/diagram';
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
