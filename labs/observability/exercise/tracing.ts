import { BatchGetTracesCommand, GetGroupCommand, GetSamplingRulesCommand, XRayClient } from '@aws-sdk/client-xray';
import { check, ExerciseContext, requireOutput } from '../../support/exercise';
import { OBSERVABILITY_LAB as LAB } from '../constants';
import { poll, timing, workerRun } from './fixtures';

export async function xray(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const { result } = await context.use(workerRun);
  const { traceHeader, contextMissing, daemonAddress } = result.xray;
  const traceId = /Root=(1-[0-9a-f]{8}-[0-9a-f]{24})/.exec(traceHeader ?? '')?.[1];
  check(traceId !== undefined, `_X_AMZN_TRACE_ID in the worker was ${JSON.stringify(traceHeader)}, not a trace header with a Root id`);
  check(/^[\d.]+:\d+$/.test(daemonAddress ?? ''), `AWS_XRAY_DAEMON_ADDRESS in the worker was ${JSON.stringify(daemonAddress)}, not host:port`);
  check(contextMissing !== undefined, 'AWS_XRAY_CONTEXT_MISSING is not set in the worker');
  log(`_X_AMZN_TRACE_ID = ${traceHeader}`);
  log(`AWS_XRAY_CONTEXT_MISSING = ${contextMissing}; AWS_XRAY_DAEMON_ADDRESS = ${daemonAddress}`);

  const client = context.client(XRayClient, 'XRAY');
  const { traceDeadlineSeconds } = await context.use(timing);
  const trace = await poll(context, traceDeadlineSeconds, async () => {
    const { Traces = [] } = await client.send(new BatchGetTracesCommand({ TraceIds: [traceId] }));
    return Traces[0]?.Segments?.length ? Traces[0] : undefined;
  });
  check(trace !== undefined, `X-Ray has no trace ${traceId} within ${traceDeadlineSeconds} s: is active tracing on?`);
  const segments = (trace.Segments ?? []).map((s) => JSON.parse(s.Document ?? '{}') as { name?: string; origin?: string });
  const functionName = requireOutput(outputs, 'WorkerFunctionName');
  check(
    segments.some((s) => s.origin === 'AWS::Lambda::Function' && s.name === functionName),
    `trace ${traceId} has no AWS::Lambda::Function segment of ${functionName}: ${JSON.stringify(segments)}`,
  );
  log(`trace ${traceId}: ${segments.map((s) => `${s.origin} ${s.name}`).join(', ')} (${trace.Duration} s)`);

  const { SamplingRuleRecords = [] } = await client.send(new GetSamplingRulesCommand({}));
  const rule = SamplingRuleRecords.find((r) => r.SamplingRule?.RuleName === requireOutput(outputs, 'SamplingRuleName'))?.SamplingRule;
  check(
    rule?.FixedRate === LAB.sampling.fixedRate && rule.ReservoirSize === LAB.sampling.reservoirSize,
    `sampling rule ${outputs.SamplingRuleName}: ${JSON.stringify(rule)}, expected reservoir ${LAB.sampling.reservoirSize}/s then ${LAB.sampling.fixedRate * 100} %`,
  );
  log(`sampling rule ${rule.RuleName}: the first ${rule.ReservoirSize} request each second, then ${rule.FixedRate * 100} % of service "${rule.ServiceName}"`);
  const { Group } = await client.send(new GetGroupCommand({ GroupARN: requireOutput(outputs, 'XRayGroupName') }));
  check((Group?.FilterExpression ?? '').includes('responsetime >'), `the X-Ray group's filter expression is ${Group?.FilterExpression}`);
  log(`group ${Group?.GroupName}: ${Group?.FilterExpression}`);
}
