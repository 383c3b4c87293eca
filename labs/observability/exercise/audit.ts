import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
  LookupEventsCommand,
} from '@aws-sdk/client-cloudtrail';
import { SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import {
  ConfigServiceClient,
  DescribeConfigurationRecordersCommand,
  DescribeConfigurationRecorderStatusCommand,
  GetComplianceDetailsByConfigRuleCommand,
  StartConfigRulesEvaluationCommand,
} from '@aws-sdk/client-config-service';
import { GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { check, ExerciseContext, requireOutput } from '../../support/exercise';
import { cloudwatchOf, lambdaOf, poll, timing } from './fixtures';

export async function cloudTrail(context: ExerciseContext): Promise<void> {
  const { outputs, log, runId } = context;
  const client = context.client(CloudTrailClient, 'CLOUDTRAIL');
  const since = new Date(Date.now() - 60_000);
  const reason = `exercise ${runId}: a call to find in CloudTrail`;
  // Setting OK on an alarm that is OK changes nothing, and is a management (write) event with our reason in it.
  await cloudwatchOf(context).send(new SetAlarmStateCommand({ AlarmName: requireOutput(outputs, 'ErrorsAlarmName'), StateValue: 'OK', StateReason: reason }));
  log('called SetAlarmState; looking it up in CloudTrail event history (90 days of management events, no trail needed)');
  const { cloudTrailDeadlineSeconds } = await context.use(timing);
  const event = await poll(context, cloudTrailDeadlineSeconds, async () => {
    const { Events = [] } = await client.send(
      new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'SetAlarmState' }], StartTime: since }),
    );
    return Events.find((e) => (e.CloudTrailEvent ?? '').includes(runId));
  });
  check(event !== undefined, `event history shows no SetAlarmState of this run within ${cloudTrailDeadlineSeconds} s`);
  const record = JSON.parse(event.CloudTrailEvent ?? '{}') as { userIdentity?: { arn?: string }; sourceIPAddress?: string; eventSource?: string };
  log(`found it: ${event.EventName} by ${record.userIdentity?.arn} from ${record.sourceIPAddress} (${record.eventSource}) at ${event.EventTime?.toISOString()}`);

  if (!outputs.TrailArn) {
    log('no trail of the lab is deployed: npx cdk deploy ObservabilityLab -c observability:trail=true');
    return;
  }
  const { trailList = [] } = await client.send(new DescribeTrailsCommand({ trailNameList: [outputs.TrailArn] }));
  check(trailList[0]?.LogFileValidationEnabled === true, 'the lab\'s trail has log-file validation off');
  const status = await client.send(new GetTrailStatusCommand({ Name: outputs.TrailArn }));
  check(status.IsLogging === true, 'the lab\'s trail is not logging');
  const { AdvancedEventSelectors = [], EventSelectors = [] } = await client.send(new GetEventSelectorsCommand({ TrailName: outputs.TrailArn }));
  const dataResources = [...EventSelectors.flatMap((s) => (s.DataResources ?? []).flatMap((d) => d.Values ?? [])), ...JSON.stringify(AdvancedEventSelectors).matchAll(/arn:[^"]+/g)].map(String);
  const bucket = requireOutput(outputs, 'DataBucketName');
  check(dataResources.some((arn) => arn.includes(bucket)), `the trail logs no data events of the lab bucket ${bucket}: ${JSON.stringify(dataResources)}`);
  log(`trail: logging, log-file validation on (hourly digest files), S3 data events of ${dataResources.join(', ')}`);
}

export async function configRules(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!outputs.TracingRuleName) {
    log('AWS Config is not deployed: npx cdk deploy ObservabilityLab -c observability:config=true (README: one recorder per Region)');
    return;
  }
  const client = context.client(ConfigServiceClient, 'CONFIG');
  const { ConfigurationRecordersStatus = [] } = await client.send(new DescribeConfigurationRecorderStatusCommand({}));
  const { ConfigurationRecorders = [] } = await client.send(new DescribeConfigurationRecordersCommand({}));
  const recording = ConfigurationRecordersStatus.find((s) => s.recording);
  check(recording !== undefined, 'no configuration recorder of this Region is recording: rules have nothing to evaluate');
  const recorder = ConfigurationRecorders.find((r) => r.name === recording.name);
  const group = recorder?.recordingGroup;
  check(
    group?.allSupported === true || (group?.resourceTypes ?? []).includes('AWS::Lambda::Function'),
    `recorder ${recording.name} does not record AWS::Lambda::Function: the tracing rule cannot see the worker`,
  );
  log(`recorder ${recording.name} (${outputs.ConfigRecorder} by this stack) records ${group?.allSupported ? 'every supported type' : (group?.resourceTypes ?? []).join(', ')}`);

  const rule = outputs.TracingRuleName;
  const functionName = requireOutput(outputs, 'WorkerFunctionName');
  try {
    await setTracing(context, functionName, 'PassThrough');
    log('turned the worker\'s X-Ray tracing to PassThrough: a configuration change Config records');
    await expectVerdict(context, rule, functionName, 'NON_COMPLIANT');
  } finally {
    await setTracing(context, functionName, 'Active');
  }
  log('turned tracing back to Active');
  await expectVerdict(context, rule, functionName, 'COMPLIANT');

  const bucketRule = requireOutput(outputs, 'BucketsEncryptedRuleName');
  const bucket = requireOutput(outputs, 'DataBucketName');
  await client.send(new StartConfigRulesEvaluationCommand({ ConfigRuleNames: [bucketRule] }));
  await expectVerdict(context, bucketRule, bucket, 'COMPLIANT');
}

async function setTracing(context: ExerciseContext, functionName: string, mode: 'Active' | 'PassThrough'): Promise<void> {
  await lambdaOf(context).send(new UpdateFunctionConfigurationCommand({ FunctionName: functionName, TracingConfig: { Mode: mode } }));
  const updated = await poll(context, 60, async () => {
    const configuration = await lambdaOf(context).send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    return configuration.LastUpdateStatus === 'InProgress' ? undefined : configuration;
  });
  check(updated?.TracingConfig?.Mode === mode, `the worker's tracing mode is ${updated?.TracingConfig?.Mode} after setting ${mode}`);
}

async function expectVerdict(context: ExerciseContext, rule: string, resourceId: string, expected: 'COMPLIANT' | 'NON_COMPLIANT'): Promise<void> {
  const client = context.client(ConfigServiceClient, 'CONFIG');
  const { configDeadlineSeconds } = await context.use(timing);
  const result = await poll(context, configDeadlineSeconds, async () => {
    const { EvaluationResults = [] } = await client.send(new GetComplianceDetailsByConfigRuleCommand({ ConfigRuleName: rule, ComplianceTypes: [expected] }));
    return EvaluationResults.find((r) => r.EvaluationResultIdentifier?.EvaluationResultQualifier?.ResourceId === resourceId);
  });
  check(result !== undefined, `rule ${rule} did not evaluate ${resourceId} as ${expected} within ${configDeadlineSeconds} s`);
  context.log(`rule ${rule}: ${resourceId} is ${expected}${result.Annotation ? ` (${result.Annotation})` : ''}`);
}
