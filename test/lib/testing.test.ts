import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { maskMachineHashes, SKIP_BUNDLING } from '../../lib/testing';
import { REPO_ROOT } from '../support/synth';

/**
 * A project that copied the constructs as README.md says, at `depth` folders below a temporary directory: `lib/`,
 * `lambda/` and the packages in `node_modules`. Its stack, written as a user's snapshot test would write it, holds a
 * function bundled from that copy (bundling skipped) behind a queue consumer.
 */
function userProjectTemplates(parent: string, depth: number) {
  const root = path.join(parent, ...Array.from({ length: depth }, (_, i) => `level${i}`));
  mkdirSync(root, { recursive: true });
  cpSync(path.join(REPO_ROOT, 'lib'), path.join(root, 'lib'), { recursive: true });
  cpSync(path.join(REPO_ROOT, 'lambda', 'sqs-consumer'), path.join(root, 'lambda', 'sqs-consumer'), { recursive: true });
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  /* eslint-disable @typescript-eslint/no-require-imports -- the copied project's own modules */
  const { SafeNodejsFunction } = require(path.join(root, 'lib', 'core', 'function')) as typeof import('../../lib/core/function');
  const { QueueWithDlq } = require(path.join(root, 'lib', 'queue-with-dlq')) as typeof import('../../lib/queue-with-dlq');
  const { QueueConsumer } = require(path.join(root, 'lib', 'queue-consumer')) as typeof import('../../lib/queue-consumer');
  const testing = require(path.join(root, 'lib', 'testing')) as typeof import('../../lib/testing');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const stack = new Stack(new App({ context: testing.SKIP_BUNDLING, builtinCloudFormationValidation: false }), 'Orders');
  const handler = new SafeNodejsFunction(stack, 'Consumer', { entry: path.join(root, 'lambda', 'sqs-consumer', 'index.ts') });
  new QueueConsumer(stack, 'OrdersConsumer', {
    source: new QueueWithDlq(stack, 'Orders', { visibilityTimeout: Duration.seconds(60) }),
    handler,
  });
  // A version, whose logical id carries the code hash.
  handler.currentVersion.addAlias('live');
  return testing.snapshotTemplate(stack);
}

test('a snapshot of a stack using the constructs is the same from two checkouts in different folders', () => {
  const parent = mkdtempSync(path.join(tmpdir(), 'snapshot-user-'));
  try {
    const [shallow, deep] = [userProjectTemplates(path.join(parent, 'a'), 1), userProjectTemplates(path.join(parent, 'b'), 3)];
    expect(JSON.stringify(shallow)).toContain('[ASSET-HASH]');
    expect(JSON.stringify(shallow)).toContain('CurrentVersion515AB2A6[CODE-HASH]');
    expect(deep).toEqual(shallow);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('masks asset hashes and the code hash of a function version, and nothing else', () => {
  const hash = 'ab'.repeat(32);
  const template = {
    Resources: {
      FnCurrentVersionA1B2C3D4e3b0c44298fc1c149afbf4c8996fb924: { Type: 'AWS::Lambda::Version' },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { Code: { S3Key: `${hash}.zip` }, Description: 'deadbeef' } },
    },
  };
  expect(maskMachineHashes(template)).toEqual({
    Resources: {
      'FnCurrentVersionA1B2C3D4[CODE-HASH]': { Type: 'AWS::Lambda::Version' },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { Code: { S3Key: '[ASSET-HASH].zip' }, Description: 'deadbeef' } },
    },
  });
});

test('SKIP_BUNDLING turns bundling off for every stack of the app', () => {
  const app = new App({ context: SKIP_BUNDLING });
  expect([new Stack(app, 'Orders').bundlingRequired, new Stack(app, 'Payments').bundlingRequired]).toEqual([false, false]);
  expect(new Stack(new App(), 'Orders').bundlingRequired).toBe(true);
});
