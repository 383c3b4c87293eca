import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStacksCommand,
  UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler, deleteStacks } from '../../lambda/iac-stack-sweeper';

// CloudFormation has no local engine: its calls are mocked, with stacks that go through DELETE_IN_PROGRESS once.
const cloudformation = mockClient(CloudFormationClient);
const PREFIX = 'IacLab-exercise-';
const event = (RequestType: 'Create' | 'Update' | 'Delete', prefix = PREFIX) =>
  ({ RequestType, ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider', StackNamePrefix: prefix } }) as unknown as CloudFormationCustomResourceEvent;
const lambdaContext = (remainingMs = 600_000) => ({ getRemainingTimeInMillis: () => remainingMs });
const handler = createHandler({ pollMs: 0, marginMs: 1000 });

let statuses: Map<string, string[]>;
beforeEach(() => {
  cloudformation.reset();
  statuses = new Map();
  cloudformation.on(ListStacksCommand).resolves({
    StackSummaries: ['IacLab-exercise-consumer', 'IacLab-exercise-playground', 'IacLab', 'OtherApp-exercise-x'].map((StackName) => ({
      StackName, StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(),
    })),
  });
  cloudformation.on(DeleteStackCommand).callsFake(({ StackName }) => {
    statuses.set(StackName, ['DELETE_IN_PROGRESS']);
    return {};
  });
  cloudformation.on(DescribeStacksCommand).callsFake(({ StackName }) => {
    const status = statuses.get(StackName)?.shift();
    if (!status) throw new Error(`Stack with id ${StackName} does not exist`);
    return { Stacks: [{ StackName, StackStatus: status, CreationTime: new Date() }] };
  });
  cloudformation.on(UpdateTerminationProtectionCommand).resolves({});
});

const deleted = () => cloudformation.commandCalls(DeleteStackCommand).map((call) => call.args[0].input.StackName);

test('on Create and Update it only hands out the prefix, deleting nothing', async () => {
  for (const type of ['Create', 'Update'] as const) {
    expect(await handler(event(type), lambdaContext())).toEqual({ PhysicalResourceId: `exercise-stacks-${PREFIX}`, Data: { StackNamePrefix: PREFIX } });
  }
  expect(deleted()).toEqual([]);
});

test('on Delete it deletes the stacks with the prefix only, termination protection off first, and waits until they are gone', async () => {
  await handler(event('Delete'), lambdaContext());
  expect(deleted()).toEqual(['IacLab-exercise-consumer', 'IacLab-exercise-playground']);
  const protectionOff = cloudformation.commandCalls(UpdateTerminationProtectionCommand).map((c) => c.args[0].input);
  expect(protectionOff).toEqual(deleted().map((StackName) => ({ StackName, EnableTerminationProtection: false })));
  // Each was described until DescribeStacks no longer found it.
  expect(cloudformation.commandCalls(DescribeStacksCommand)).toHaveLength(4);
});

test('a stack that fails to delete fails the request, naming it (the framework sends FAILED with this message)', async () => {
  cloudformation.on(DeleteStackCommand).callsFake(({ StackName }) => {
    statuses.set(StackName, StackName.endsWith('playground') ? ['DELETE_FAILED'] : []);
    return {};
  });
  await expect(handler(event('Delete'), lambdaContext())).rejects.toThrow(
    'could not delete IacLab-exercise-playground (DELETE_FAILED): see their events',
  );
});

test('it gives up with a message before the function times out, rather than leave CloudFormation waiting', async () => {
  cloudformation.on(DeleteStackCommand).callsFake(({ StackName }) => {
    statuses.set(StackName, Array(10).fill('DELETE_IN_PROGRESS'));
    return {};
  });
  let remaining = 3;
  await expect(deleteStacks(['IacLab-exercise-consumer'], () => remaining--, { pollMs: 1, marginMs: 1 })).rejects.toThrow(
    'still deleting IacLab-exercise-consumer: delete them by hand',
  );
});

test('it lists only the stacks that still exist, skips summaries without a name, and logs what it is about to delete', async () => {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  cloudformation.on(ListStacksCommand).resolves({ StackSummaries: [{ StackStatus: 'CREATE_COMPLETE', CreationTime: new Date() } as never, { StackName: 'IacLab-exercise-a', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date() }] });
  try {
    await handler(event('Delete'), lambdaContext());
    expect(log).toHaveBeenCalledWith(JSON.stringify({ message: 'deleting exercise stacks', prefix: PREFIX, leftovers: ['IacLab-exercise-a'] }));
  } finally {
    log.mockRestore();
  }
  const filter = cloudformation.commandCalls(ListStacksCommand)[0].args[0].input.StackStatusFilter;
  expect(filter).not.toContain('DELETE_COMPLETE');
  expect(filter).toEqual(expect.arrayContaining(['CREATE_COMPLETE', 'DELETE_IN_PROGRESS', 'DELETE_FAILED', 'ROLLBACK_COMPLETE']));
});

test('a stack described as DELETE_COMPLETE, or not described at all, is gone', async () => {
  cloudformation.on(DescribeStacksCommand, { StackName: 'complete' }).resolves({ Stacks: [{ StackName: 'complete', StackStatus: 'DELETE_COMPLETE', CreationTime: new Date() }] });
  cloudformation.on(DescribeStacksCommand, { StackName: 'no-list' }).resolves({});
  cloudformation.on(DescribeStacksCommand, { StackName: 'empty-list' }).resolves({ Stacks: [] });
  // Gone at the first look: no time left does not matter then.
  await expect(deleteStacks(['complete', 'no-list', 'empty-list'], () => 0, { pollMs: 1, marginMs: 1 })).resolves.toBeUndefined();
});

test('an error describing a stack other than "does not exist" is thrown', async () => {
  cloudformation.on(DescribeStacksCommand).rejects(new Error('Rate exceeded'));
  await expect(deleteStacks(['IacLab-exercise-a'], () => 600_000, { pollMs: 0, marginMs: 0 })).rejects.toThrow('Rate exceeded');
});

test('every stack that failed, or is still being deleted, is named', async () => {
  cloudformation.on(DeleteStackCommand).callsFake(({ StackName }) => void statuses.set(StackName, ['DELETE_FAILED']));
  await expect(deleteStacks(['a', 'b'], () => 600_000, { pollMs: 0, marginMs: 0 })).rejects.toThrow('could not delete a, b (DELETE_FAILED): see their events');
  cloudformation.on(DeleteStackCommand).callsFake(({ StackName }) => void statuses.set(StackName, ['DELETE_IN_PROGRESS']));
  await expect(deleteStacks(['c', 'd'], () => 0, { pollMs: 0, marginMs: 1 })).rejects.toThrow('still deleting c, d: delete them by hand');
});

test('it polls again while the time left is at least the margin plus one poll, and gives up below that', async () => {
  cloudformation.on(DeleteStackCommand).callsFake(({ StackName }) => void statuses.set(StackName, ['DELETE_IN_PROGRESS']));
  const timing = { pollMs: 3, marginMs: 5 };
  await expect(deleteStacks(['enough-time'], () => 8, timing)).resolves.toBeUndefined();
  await expect(deleteStacks(['too-little-time'], () => 7, timing)).rejects.toThrow('still deleting too-little-time: delete them by hand');
});

test('the handler gives up by the time the function has left', async () => {
  cloudformation.on(DeleteStackCommand).callsFake(({ StackName }) => void statuses.set(StackName, ['DELETE_IN_PROGRESS']));
  await expect(handler(event('Delete'), lambdaContext(999))).rejects.toThrow('still deleting IacLab-exercise-consumer, IacLab-exercise-playground: delete them by hand');
});
