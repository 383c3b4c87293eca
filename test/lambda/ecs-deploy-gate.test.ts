import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler, EcsLifecycleHookEvent, GATE_OPEN } from '../../lambda/ecs-deploy-gate';
import { ECS_LAB } from '../../labs/ecs/constants';

const ssm = mockClient(SSMClient);
const handler = createHandler(new SSMClient({}), '/lab/gate');
// The payload as the ECS docs show it: the deployment's details under executionDetails.
const event: EcsLifecycleHookEvent = {
  lifecycleStage: 'POST_SCALE_UP',
  executionDetails: {
    serviceArn: 'arn:aws:ecs:us-east-1:1:service/cluster/service',
    targetServiceRevisionArn: 'arn:aws:ecs:us-east-1:1:service-revision/cluster/service/2',
    testTrafficWeights: {},
    productionTrafficWeights: {},
  },
};

beforeEach(() => {
  ssm.reset();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

test('the gate the lab opens is the value the hook lets through', () => {
  expect(GATE_OPEN).toBe(ECS_LAB.gateOpen);
});

test('an open gate lets the deployment continue, reading the parameter it was given', async () => {
  ssm.on(GetParameterCommand, { Name: '/lab/gate' }).resolves({ Parameter: { Value: 'open' } });
  await expect(handler(event)).resolves.toEqual({ hookStatus: 'SUCCEEDED' });
  expect(console.log).toHaveBeenCalledWith(expect.stringContaining('"targetRevision":"arn:aws:ecs:us-east-1:1:service-revision/cluster/service/2"'));
});

test.each([[ECS_LAB.gateClosed], ['Open'], ['']])('a gate holding %j fails the hook, so ECS rolls back', async (value) => {
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: value } });
  await expect(handler(event)).resolves.toEqual({ hookStatus: 'FAILED' });
});

test('an answer without a parameter fails the hook, and the log shows the empty gate', async () => {
  ssm.on(GetParameterCommand).resolves({});
  await expect(handler(event)).resolves.toEqual({ hookStatus: 'FAILED' });
  expect(JSON.parse(jest.mocked(console.log).mock.lastCall?.[0] as string)).toMatchObject({ gate: '', hookStatus: 'FAILED' });
});

test('a gate it cannot read is an error: ECS rolls back a deployment whose hook fails', async () => {
  ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
  await expect(handler(event)).rejects.toThrow('not found');
});
