import { RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
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
  features: { big: { description: 'a billed part', idleCostUsdPerMonth: 1 } },
  parameters: { email: { description: 'where to write', pattern: /^[^@\s]+@[^@\s]+$/, expected: 'an email address' } },
  loadStack: async (): Promise<LabStackClass> => DemoStack,
  loadExercise: async (): Promise<LabExercise> => ({ steps: [] }),
});

const build = (context: Record<string, unknown> = {}) =>
  new DemoStack(testApp(context, { builtinCloudFormationValidation: false }), { lab: demo });

test('lab stacks are deleted whole on destroy, log groups get a retention when they have none', () => {
  const template = Template.fromStack(build());
  for (const resource of Object.values(template.toJSON().Resources) as { DeletionPolicy?: string }[]) {
    expect(resource.DeletionPolicy ?? 'Delete').toBe('Delete');
  }
  template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
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
  [{ 'labs:all-features': 'true' }, true],
])('context %j turns the feature %s', (context, expected) => {
  expect(build(context).big).toBe(expected);
});

test('a flag that is not true or false is refused', () => {
  expect(() => build({ 'demo:big': 'yes' })).toThrow('context demo:big must be true or false, got "yes"');
});

test('a feature flag the lab does not declare is refused, naming the ones it has', () => {
  const app = testApp({ 'demo:bigg': 'true' }, { builtinCloudFormationValidation: false });
  expect(() => addLabStacks(app, [withStack(demo, DemoStack)])).toThrow('unknown context key demo:bigg: lab demo takes demo:big, demo:email');
});

test('defineLab keeps the declared order and names of features and parameters', () => {
  expect(demo.features).toEqual([{ name: 'big', description: 'a billed part', idleCostUsdPerMonth: 1 }]);
  expect(demo.parameters.map((p) => p.name)).toEqual(['email']);
});

test('asking for an undeclared feature in a stack is a type error, and a declaration error at synth', () => {
  // @ts-expect-error: 'nope' is not a feature of the demo lab (tsc checks this line).
  expect(() => build().feature('nope')).toThrow('lab demo declares no feature "nope" in labs/demo/lab.ts (declared: big)');
});

test('a declared parameter is read from context, checked against its pattern', () => {
  expect(build().parameter('email')).toBeUndefined();
  expect(build({ 'demo:email': 'me@example.com' }).parameter('email')).toBe('me@example.com');
  expect(() => build({ 'demo:email': 'me' }).parameter('email')).toThrow('context demo:email must be an email address, got "me"');
  // @ts-expect-error: 'region' is not a parameter of the demo lab (tsc checks this line).
  expect(() => build().parameter('region')).toThrow('lab demo declares no parameter "region" in labs/demo/lab.ts (declared: email)');
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
