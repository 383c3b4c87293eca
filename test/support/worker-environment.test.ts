import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { workerServer } from './worker-servers';

// jest.config.js runs every test file in worker-environment.js: these tests check that what it shares behaves.

const SCHEMA_ERROR = /VisibilityTimeout: 'soon' is not of type 'integer' \(CloudFormation Validate\)[\s\S]*CloudFormation-Validate::F3012/;

function appWithSchemaError(): App {
  const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true, '@aws-cdk/core:strictCfnValidateErrors': true } });
  new CfnResource(new Stack(app, 'Stack'), 'Queue', { type: 'AWS::SQS::Queue', properties: { VisibilityTimeout: 'soon' } });
  return app;
}

test('CloudFormation validation through the worker\'s shared engine still fails a synth on a schema error', () => {
  expect(() => appWithSchemaError().synth()).toThrow(SCHEMA_ERROR);
});

test('the engine, reused for a second app of the same resource types, finds the same error', () => {
  expect(() => appWithSchemaError().synth()).toThrow(SCHEMA_ERROR);
});

test('a worker server is started once, and every later request gets the same one', async () => {
  let starts = 0;
  const start = async () => ({ id: ++starts, kill: () => undefined });
  const first = await workerServer('test-server', start);
  const second = await workerServer('test-server', start);
  expect(starts).toBe(1);
  expect(second).toBe(first);
});
