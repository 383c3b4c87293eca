import { CustomResource, RemovalPolicy, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { LABS } from '../../labs/catalogue';
import { addLabStacks, labsSelectedBy, withStack } from '../../labs/support/app';
import { defineLab, LabExercise, LabStackClass } from '../../labs/support/define-lab';
import { keepOnDestroy, KEEP_ON_DESTROY, LabConfigError, LabStack, LabStackProps } from '../../labs/support/lab-stack';
import { Construct } from 'constructs';
import { testApp } from '../support/synth';

class DemoStack extends LabStack<typeof demo> {
  readonly big: boolean;
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    this.big = this.feature('big');
    this.addOutputs({ Greeting: 'hello', Farewell: 'bye' });
    new logs.LogGroup(this, 'Logs', { removalPolicy: RemovalPolicy.RETAIN, retention: logs.RetentionDays.INFINITE });
    new logs.CfnLogGroup(this, 'BareLogs');
    new s3.Bucket(this, 'Kept', { autoDeleteObjects: true, removalPolicy: RemovalPolicy.DESTROY, enforceSSL: true });
  }
}

const demo = defineLab({
  id: 'demo',
  title: 'Demo',
  stackName: 'DemoLab',
  seedTopics: [],
  idleCostUsdPerMonth: 0,
  features: {
    big: { description: 'a billed part', idleCostUsdPerMonth: 1 },
    small: { description: 'a free part', idleCostUsdPerMonth: 0 },
  },
  parameters: {
    email: { description: 'where to write', pattern: /^[^@\s]+@[^@\s]+$/, expected: 'an email address' },
    size: { description: 'how many', pattern: /^\d+$/, expected: 'a whole number' },
  },
  loadStack: async (): Promise<LabStackClass> => DemoStack,
  loadExercise: async (): Promise<LabExercise> => ({ steps: [] }),
});

const build = (context: Record<string, unknown> = {}) =>
  new DemoStack(testApp(context, { builtinCloudFormationValidation: false }), { lab: demo });

/** A lab that declares neither features nor parameters. */
const bare = defineLab({
  id: 'bare',
  title: 'Bare',
  stackName: 'BareLab',
  seedTopics: [],
  idleCostUsdPerMonth: 0,
  loadStack: async (): Promise<LabStackClass> => LabStack,
  loadExercise: async (): Promise<LabExercise> => ({ steps: [] }),
});

test('lab stacks are deleted whole on destroy, log groups get a retention when they have none', () => {
  const template = Template.fromStack(build());
  for (const resource of Object.values(template.toJSON().Resources) as { DeletionPolicy?: string }[]) {
    expect(resource.DeletionPolicy ?? 'Delete').toBe('Delete');
  }
  template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
});

describe('the disposable-lab aspect, on one stack with each kind of resource it changes', () => {
  interface TemplateJson { Description: string; Outputs: object; Resources: Record<string, { Type: string; DependsOn?: string[]; Properties?: { RetentionInDays?: number } }> }
  const PROVIDER_LOG_GROUP = 'CustomS3AutoDeleteObjectsCustomResourceProviderHandlerLogGroup2438171E';
  const logGroups = (resources: TemplateJson['Resources']) => Object.keys(resources).filter((id) => resources[id].Type === 'AWS::Logs::LogGroup');
  let stack: DemoStack;
  let template: TemplateJson;
  // Built once for the describe's tests; in beforeAll so that a synth that throws fails them.
  beforeAll(() => {
    stack = build();
    new logs.CfnLogGroup(stack, 'MonthLogs', { retentionInDays: 30 });
    new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {}') });
    new CustomResource(stack, 'Plain', { serviceToken: 'arn:aws:sns:us-east-1:123456789012:provider' });
    keepOnDestroy(new logs.LogGroup(stack, 'SharedLogs', { retention: logs.RetentionDays.ONE_DAY }), 'used by other stacks');
    template = Template.fromStack(stack).toJSON() as TemplateJson;
  });

  test('a log group keeps the retention it has; one without gets a week', () => {
    expect(Object.fromEntries(logGroups(template.Resources).map((id) => [id, template.Resources[id].Properties?.RetentionInDays]))).toEqual({
      Logs6819BB44: 7,
      BareLogs: 7,
      [PROVIDER_LOG_GROUP]: 7,
      MonthLogs: 30,
      FnLogGroup27CC2AC8: 731,
      SharedLogsF9B7E39D: 1,
    });
  });

  test('a raw provider function gets its log group, deleted with the stack, after every custom resource', () => {
    expect(template.Resources[PROVIDER_LOG_GROUP]).toEqual({
      Type: 'AWS::Logs::LogGroup',
      Properties: {
        LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: 'CustomS3AutoDeleteObjectsCustomResourceProviderHandler9D90184F' }]] },
        RetentionInDays: 7,
      },
      UpdateReplacePolicy: 'Delete',
      DeletionPolicy: 'Delete',
    });
    expect(template.Resources.KeptAutoDeleteObjectsCustomResource2CBA8E8F.DependsOn).toContain(PROVIDER_LOG_GROUP);
    expect(template.Resources.Plain.DependsOn).toEqual([PROVIDER_LOG_GROUP]);
  });

  test('synthesizing the app again, which runs the aspects again, adds no second log group', () => {
    const again = Stage.of(stack)!.synth({ force: true }).getStackArtifact(stack.artifactId).template as TemplateJson;
    expect(logGroups(again.Resources)).toEqual(logGroups(template.Resources));
  });

  test('keepOnDestroy marks the resources of a higher-level construct, which are then retained', () => {
    expect(template.Resources.SharedLogsF9B7E39D).toMatchObject({ Metadata: { 'labs:keep-on-destroy': 'used by other stacks' }, DeletionPolicy: 'Retain' });
  });

  test('the stack describes itself with the lab and how to destroy it, and has the outputs it was given', () => {
    expect(template.Description).toBe('Demo (lab "demo"; destroy with: npx cdk destroy DemoLab)');
    expect(template.Outputs).toEqual({ Greeting: { Value: 'hello' }, Farewell: { Value: 'bye' } });
  });
});

test('a lab stack is tagged with its lab over any tag of that name, and keeps the props it is given', () => {
  const stack = new DemoStack(testApp({}, { builtinCloudFormationValidation: false }), { lab: demo, tags: { owner: 'learner', lab: 'other' }, description: 'custom' });
  expect(stack.tags.tagValues()).toEqual({ owner: 'learner', lab: 'demo' });
  expect(stack.templateOptions.description).toBe('custom');
  expect(build().tags.tagValues()).toEqual({ lab: 'demo' });
});

test('a lab bucket without autoDeleteObjects fails synth with the reason', () => {
  const stack = build();
  new s3.Bucket(stack, 'Leaky', { enforceSSL: true });
  expect(() => Template.fromStack(stack)).toThrow(/Lab buckets must set autoDeleteObjects: true/);
});

test('a lab ECR repository, retained by its construct, is deleted with its images', () => {
  const stack = build();
  new ecr.Repository(stack, 'Images', { removalPolicy: RemovalPolicy.RETAIN });
  Template.fromStack(stack).hasResource('AWS::ECR::Repository', { DeletionPolicy: 'Delete', Properties: { EmptyOnDelete: true } });
});

test.each([
  [{}, false],
  [{ 'demo:big': 'true' }, true],
  [{ 'demo:big': false }, false],
  [{ 'demo:big': 'false' }, false],
  [{ 'demo:big': true }, true],
  [{ 'labs:all-features': 'true' }, true],
])('context %j turns the feature %s', (context, expected) => {
  expect(build(context).big).toBe(expected);
});

test('a flag that is not true or false is refused', () => {
  expect(() => build({ 'demo:big': 'yes' })).toThrow('context demo:big must be true or false, got "yes"');
});

test('a feature flag the lab does not declare is refused, naming the ones it has', () => {
  const app = testApp({ 'demo:bigg': 'true' }, { builtinCloudFormationValidation: false });
  expect(() => addLabStacks(app, [withStack(demo, DemoStack)])).toThrow('unknown context key demo:bigg: lab demo takes demo:big, demo:small, demo:email, demo:size');
});

test('defineLab keeps the declared order and names of features and parameters', () => {
  expect(demo.features).toEqual([
    { name: 'big', description: 'a billed part', idleCostUsdPerMonth: 1 },
    { name: 'small', description: 'a free part', idleCostUsdPerMonth: 0 },
  ]);
  expect(demo.parameters.map((p) => p.name)).toEqual(['email', 'size']);
});

test('asking for an undeclared feature in a stack is a type error, and a declaration error at synth', () => {
  // @ts-expect-error: 'nope' is not a feature of the demo lab (tsc checks this line).
  expect(() => build().feature('nope')).toThrow('lab demo declares no feature "nope" in labs/demo/lab.ts (declared: big, small)');
});

test('a declared parameter is read from context, checked against its pattern', () => {
  expect(build().parameter('email')).toBeUndefined();
  expect(build({ 'demo:email': 'me@example.com' }).parameter('email')).toBe('me@example.com');
  expect(() => build({ 'demo:email': 'me' }).parameter('email')).toThrow('context demo:email must be an email address, got "me"');
  // @ts-expect-error: 'region' is not a parameter of the demo lab (tsc checks this line).
  expect(() => build().parameter('region')).toThrow('lab demo declares no parameter "region" in labs/demo/lab.ts (declared: email, size)');
});

test('a parameter given as a number is read as its digits; a value of another type is refused', () => {
  expect(build({ 'demo:size': 3 }).parameter('size')).toBe('3');
  expect(() => build({ 'demo:size': true }).parameter('size')).toThrow('context demo:size must be a whole number, got true');
});

test('a lab that declares no feature or parameter says so when asked for one', () => {
  const stack = new LabStack<typeof bare>(testApp({}, { builtinCloudFormationValidation: false }), { lab: bare });
  // @ts-expect-error: the bare lab has no feature (tsc checks this line).
  expect(() => stack.feature('big')).toThrow(new LabConfigError('lab bare declares no feature "big" in labs/bare/lab.ts (declared: none)'));
  // @ts-expect-error: the bare lab has no parameter (tsc checks this line).
  expect(() => stack.parameter('email')).toThrow(new LabConfigError('lab bare declares no parameter "email" in labs/bare/lab.ts (declared: none)'));
});

test('a resource marked keepOnDestroy is retained, with its reason in the template', () => {
  const stack = build();
  const kept = new logs.CfnLogGroup(stack, 'Shared');
  keepOnDestroy(kept, 'used by other stacks');
  const resource = Object.values(Template.fromStack(stack).findResources('AWS::Logs::LogGroup', { Metadata: { [KEEP_ON_DESTROY]: 'used by other stacks' } }));
  expect(resource).toHaveLength(1);
  expect(resource[0]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
});

test('-c labs:only=<id> selects that lab alone; an unknown id is refused, naming the labs', () => {
  expect(labsSelectedBy(testApp({ 'labs:only': 'kms' })).map((lab) => lab.stackName)).toEqual(['KmsLab']);
  expect(labsSelectedBy(testApp())).toBe(LABS);
  expect(() => labsSelectedBy(testApp({ 'labs:only': 'kmss' }))).toThrow(
    new LabConfigError(`unknown lab kmss in -c labs:only; labs: ${LABS.map((lab) => lab.id).join(', ')}`),
  );
});
