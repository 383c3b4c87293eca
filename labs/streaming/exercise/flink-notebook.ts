/** The exercise's flink step: the Studio notebook started, its URL printed, then stopped again. */
import {
  CreateApplicationPresignedUrlCommand,
  DescribeApplicationCommand,
  KinesisAnalyticsV2Client,
  StartApplicationCommand,
  StopApplicationCommand,
} from '@aws-sdk/client-kinesis-analytics-v2';
import { check, defineTiming, elapsedSeconds, ExerciseContext, requireOutput } from '../../support/exercise';
import { FLINK_LAB, FLINK_PRICES, flinkRunningHourUsd } from '../constants';

export const flinkTiming = defineTiming(FLINK_LAB.exerciseTiming);

async function statusOf(context: ExerciseContext, name: string) {
  const { ApplicationDetail: detail } = await context.client(KinesisAnalyticsV2Client, 'KINESIS_ANALYTICS_V2').send(new DescribeApplicationCommand({ ApplicationName: name }));
  return detail;
}

/** Polls until the notebook is `wanted`, or the deadline passes; returns the last status seen. */
async function waitFor(context: ExerciseContext, name: string, wanted: string): Promise<string | undefined> {
  const { transitionDeadlineSeconds, statusPollSeconds } = await context.use(flinkTiming);
  const started = Date.now();
  let status: string | undefined;
  while (Date.now() - started < transitionDeadlineSeconds * 1000) {
    status = (await statusOf(context, name))?.ApplicationStatus;
    if (status === wanted) break;
    await new Promise((resolve) => setTimeout(resolve, statusPollSeconds * 1000));
  }
  context.log(`  ${status} after ${elapsedSeconds(started)} s`);
  return status;
}

/**
 * Shows that the notebook costs nothing until started: READY as deployed, RUNNING (billed) once started, READY
 * again once stopped. While it runs the step prints the notebook's URL (valid 30 minutes) and the Flink SQL to paste;
 * a learner who wants time with it starts it from the console and stops it after.
 */
export async function flinkNotebook(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!outputs.NotebookName) {
    log('the Flink part is not deployed: npx cdk deploy StreamingLab -c streaming:flink=true ($0 while stopped)');
    return;
  }
  const name = requireOutput(outputs, 'NotebookName');
  const streamName = requireOutput(outputs, 'StreamName');
  // The stream's region, from its ARN (arn:aws:kinesis:<region>:<account>:stream/<name>), for the table's connector.
  const region = requireOutput(outputs, 'StreamArn').split(':')[3];
  const analytics = context.client(KinesisAnalyticsV2Client, 'KINESIS_ANALYTICS_V2');
  const detail = await statusOf(context, name);
  log(`notebook ${name}: ${detail?.ApplicationStatus}, mode ${detail?.ApplicationMode}, runtime ${detail?.RuntimeEnvironment}`);
  check(detail?.ApplicationMode === 'INTERACTIVE', `the application is ${detail?.ApplicationMode}, not an INTERACTIVE (Studio) notebook`);
  check(detail.ApplicationStatus === 'READY', `the notebook is ${detail.ApplicationStatus}, not READY: stop it first (it bills while running)`);

  const perHour = flinkRunningHourUsd().toFixed(2);
  log(`starting it: from now on it bills $${perHour} per hour (${FLINK_LAB.parallelism} KPU + the Studio's ${FLINK_PRICES.studioExtraKpus}, $${FLINK_PRICES.kpuHourUsd.toFixed(2)} each) until stopped`);
  await analytics.send(new StartApplicationCommand({ ApplicationName: name }));
  let running: string | undefined;
  try {
    running = await waitFor(context, name, 'RUNNING');
    check(running === 'RUNNING', `the notebook did not reach RUNNING: ${running}`);
    const { AuthorizedUrl } = await analytics.send(
      new CreateApplicationPresignedUrlCommand({ ApplicationName: name, UrlType: 'ZEPPELIN_UI_URL', SessionExpirationDurationInSeconds: 1800 }),
    );
    check(AuthorizedUrl !== undefined, 'no notebook URL was returned');
    log(`notebook UI (30 minutes): ${AuthorizedUrl}`);
    log(
      "  %flink.ssql CREATE TABLE clicks (key STRING, page STRING, arrival TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL, " +
        `WATERMARK FOR arrival AS arrival - INTERVAL '5' SECOND) WITH ('connector' = 'kinesis', 'stream' = '${streamName}', ` +
        `'aws.region' = '${region}', 'scan.stream.initpos' = 'LATEST', 'format' = 'json');`,
    );
    log("  %flink.ssql(type=update) SELECT key, COUNT(*) AS clicks FROM clicks GROUP BY TUMBLE(arrival, INTERVAL '1' MINUTE), key;");
  } finally {
    // A plain stop is refused unless RUNNING; a forced one is also accepted while STARTING, so a notebook still
    // starting at the deadline is stopped instead of going on to RUNNING and billing.
    log('stopping it');
    await analytics.send(new StopApplicationCommand({ ApplicationName: name, Force: running !== 'RUNNING' }));
  }
  const stopped = await waitFor(context, name, 'READY');
  check(stopped === 'READY', `the notebook did not stop: ${stopped}; stop it in the console, it bills while running`);
  log('READY again: a stopped notebook keeps its notes and its Glue tables and bills nothing');
}
