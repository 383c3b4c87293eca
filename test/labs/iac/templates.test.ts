import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sam from 'aws-cdk-lib/aws-sam';
import { CONSUMER_TEMPLATE_FILE } from '../../../labs/iac/constants';
import { FAILING_UPDATE_TEMPLATE, PLAYGROUND_TEMPLATE } from '../../../labs/iac/playground-templates';
import { SAM_TEMPLATE_FILE, SamApp } from '../../../labs/iac/sam-app';
import { REPO_ROOT } from '../../support/lab-template';

/**
 * The offline SAM check: @aws/cloudformation-validate, the engine aws-cdk-lib ships and runs on every lab at synth,
 * runs the SAM translator on a template with the AWS::Serverless-2016-10-31 transform (a translation error is E0001)
 * and then validates what the translator produced against the CloudFormation resource schemas. (cfn-lint from npm
 * installs too, but its 2019 SAM specification refuses today's properties: Architectures in Globals, LoggingConfig.)
 */
interface Diagnostic {
  readonly severity: string;
  readonly ruleId: string;
  readonly message: string;
}
interface ValidateModule {
  CompositeEngine: new () => { validateTemplate(template: unknown): { diagnostics: Diagnostic[] } };
  TemplateContent: new (content: string, name?: string) => unknown;
}
// Not a dependency of this project but of aws-cdk-lib: jest maps the name to the worker's shared engine.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const validate = require('@aws/cloudformation-validate') as ValidateModule;
const engine = new validate.CompositeEngine();
const findingsOf = (template: unknown) =>
  engine
    .validateTemplate(new validate.TemplateContent(JSON.stringify(template), 'sam.json'))
    .diagnostics.filter((d) => d.severity !== 'INFO')
    .map((d) => `${d.ruleId} ${d.message}`);

// The nested stack alone, in a parent of its own: what the lab passes in is tested with the lab (stack.test.ts).
const samApp = new SamApp(new Stack(new App(), 'Parent'), 'SamApp', { signingSecret: 'NotASecretChangeMe2026', exerciseStackPrefix: 'IacLab-exercise-' });
/** The nested stack's template: what CloudFormation receives and transforms. */
const nested = Template.fromStack(samApp).toJSON();
type Json = { Resources: Record<string, { Properties: Record<string, unknown> }>; Globals: { Function: Record<string, unknown> } };
const mutated = (change: (template: Json) => void) => {
  const copy = structuredClone(nested) as unknown as Json;
  change(copy);
  return copy;
};

test('the included template keeps the transform, Globals and the serverless function as CloudFormation receives them', () => {
  expect(nested.Transform).toBe('AWS::Serverless-2016-10-31');
  expect(nested.Globals.Function).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], LoggingConfig: { LogGroup: { Ref: 'StackEventsLogGroup' } } });
  expect(nested.Resources.StackEventsFunction.Properties.Events).toEqual({
    ExerciseStackChanges: { Type: 'EventBridgeRule', Properties: { Pattern: expect.objectContaining({ source: ['aws.cloudformation'] }) } },
  });
  expect(readFileSync(SAM_TEMPLATE_FILE, 'utf8')).toContain('Transform: AWS::Serverless-2016-10-31');
});

test('CfnInclude reads the function as the CDK\'s SAM L1 (aws-sam CfnFunction), its event typed as an EventBridge rule', () => {
  expect(samApp.function).toBeInstanceOf(sam.CfnFunction);
  const events = samApp.function.events as Record<string, sam.CfnFunction.EventSourceProperty>;
  expect(events.ExerciseStackChanges.type).toBe('EventBridgeRule');
  expect(samApp.function.handler).toBe('index.handler');
});

test('the SAM translator accepts the template and what it expands to passes the resource schemas', () => {
  expect(findingsOf(nested)).toEqual([]);
});

test.each<[string, (template: Json) => void, RegExp]>([
  ['a function without Handler', (t) => delete t.Resources.StackEventsFunction.Properties.Handler, /^E0001 Error transforming template: .*Runtime and Handler needs to be present/],
  ['a property SAM Globals do not support', (t) => (t.Globals.Function.CodeSigning = 'x'), /^E0001 Error transforming template: 'Globals' section is invalid\. 'CodeSigning' is not a supported property/],
  ['a runtime Lambda no longer creates', (t) => (t.Globals.Function.Runtime = 'nodejs12.x'), /^E2533 Runtime 'nodejs12.x' was deprecated/],
])('the check refuses %s', (_what, change, finding) => {
  expect(findingsOf(mutated(change))).toEqual([expect.stringMatching(finding)]);
});

describe('the templates the exercise deploys with the SDK', () => {
  test.each([
    ['the consumer stack', JSON.parse(readFileSync(path.join(REPO_ROOT, 'labs', 'iac', CONSUMER_TEMPLATE_FILE), 'utf8'))],
    ['the playground stack', PLAYGROUND_TEMPLATE],
    ['the update that fails on purpose', FAILING_UPDATE_TEMPLATE],
  ])('%s passes validation', (_name, template) => {
    expect(findingsOf(template)).toEqual([]);
  });

  test('the failing update fails only at deploy time: a wait condition nobody signals, after the new queue', () => {
    const { ExtraQueue, DeliberateFailure } = FAILING_UPDATE_TEMPLATE.Resources;
    expect(ExtraQueue.Type).toBe('AWS::SQS::Queue');
    expect(DeliberateFailure).toMatchObject({ Type: 'AWS::CloudFormation::WaitCondition', DependsOn: 'ExtraQueue', Properties: { Handle: { Ref: 'NeverSignalled' }, Timeout: '1' } });
    expect(FAILING_UPDATE_TEMPLATE.Resources.Queue).toEqual(PLAYGROUND_TEMPLATE.Resources.Queue);
  });
});
