import { DescribeRuleCommand, EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { check, ExerciseContext, requireOutput } from '../../support/exercise';

/** An EventBridge event of CodeBuild, as the service sends it (the fields the rule and the message read). */
const codeBuildEvent = (status: string) => ({
  version: '0',
  id: '2f9c6a31-0000-4000-8000-000000000000',
  'detail-type': 'CodeBuild Build State Change',
  source: 'aws.codebuild',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:codebuild:us-east-1:123456789012:build/app:4fa6d0ad'],
  detail: { 'build-status': status, 'project-name': 'app', 'build-id': 'arn:aws:codebuild:us-east-1:123456789012:build/app:4fa6d0ad' },
});

export async function buildEvents(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const client = context.client(EventBridgeClient, 'EVENTBRIDGE');
  const { EventPattern } = await client.send(new DescribeRuleCommand({ Name: requireOutput(outputs, 'FailedBuildsRuleName') }));
  check(EventPattern !== undefined, 'the failed-builds rule has no event pattern');
  log(`rule pattern: ${EventPattern}`);
  const verdicts: Record<string, boolean> = {};
  for (const status of ['FAILED', 'TIMED_OUT', 'SUCCEEDED', 'IN_PROGRESS']) {
    const { Result } = await client.send(new TestEventPatternCommand({ EventPattern, Event: JSON.stringify(codeBuildEvent(status)) }));
    verdicts[status] = Result === true;
  }
  check(
    verdicts.FAILED && verdicts.TIMED_OUT && !verdicts.SUCCEEDED && !verdicts.IN_PROGRESS,
    `TestEventPattern: ${JSON.stringify(verdicts)}; expected FAILED and TIMED_OUT to match, SUCCEEDED and IN_PROGRESS not`,
  );
  log(`TestEventPattern on sample CodeBuild events: ${JSON.stringify(verdicts)}; a match publishes to the alarm topic`);
}
