/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import * as path from 'node:path';

/** The source bundle: the app, its Procfile, .ebextensions, .platform hooks and cron.yaml, zipped as an S3 asset. */
export const SOURCE_BUNDLE_DIR = path.join(__dirname, 'app');

/** The deployment policies Elastic Beanstalk has; a single-instance environment supports AllAtOnce and Immutable only. */
export const DEPLOYMENT_POLICY_NAMES = ['AllAtOnce', 'Rolling', 'RollingWithAdditionalBatch', 'Immutable', 'TrafficSplitting'] as const;

/** us-east-1 list prices of what one environment bills while idle (checked 2026-11). */
const PRICES = {
  /** t4g.micro on demand, Linux, per hour. */
  t4gMicroPerHour: 0.0084,
  /** A public IPv4 address (the single instance's Elastic IP), per hour. */
  publicIpv4PerHour: 0.005,
  /** gp3 storage per GB-month. */
  gp3PerGbMonth: 0.08,
  /** An Application Load Balancer per hour, before LCUs (an idle one uses next to none). */
  albPerHour: 0.0225,
};
const ROOT_VOLUME_GIB = 10;
/** The load-balanced web environment keeps this many instances (and the ALB one public address in each of 2 AZs). */
const LOAD_BALANCED_INSTANCES = 2;
const instancePerMonth = (PRICES.t4gMicroPerHour + PRICES.publicIpv4PerHour) * 730 + ROOT_VOLUME_GIB * PRICES.gp3PerGbMonth;
const loadBalancedPerMonth = LOAD_BALANCED_INSTANCES * instancePerMonth + (PRICES.albPerHour + 2 * PRICES.publicIpv4PerHour) * 730;
const cents = (usd: number) => Math.round(usd * 100) / 100;

export const BEANSTALK_LAB = {
  stackName: 'BeanstalkLab',
  /** The platform branch whose recommended version the stack looks up at deploy time, unless -c beanstalk:platform= pins one. */
  platformBranch: 'Node.js 22 running on 64bit Amazon Linux 2023',
  platformPattern: /^Node\.js \d+ running on 64bit Amazon Linux 2023\/\d+\.\d+\.\d+$/,
  defaultDeploymentPolicy: 'AllAtOnce',
  instanceType: 't4g.micro',
  rootVolumeGiB: ROOT_VOLUME_GIB,
  loadBalancedInstances: LOAD_BALANCED_INSTANCES,
  /** The lifecycle policy keeps this many versions; the deploy step adds one and deletes it again. */
  maxVersions: 5,
  /** Weekly window of managed platform updates (UTC). */
  maintenanceWindow: 'Sun:10:00',
  /** The option set at several levels to show their precedence. */
  precedence: {
    namespace: 'aws:elasticbeanstalk:application:environment',
    optionName: 'GREETING',
    ebextensions: 'from .ebextensions',
    savedConfiguration: 'from the saved configuration',
    direct: 'applied directly',
  },
  /** Idle cost of one single-instance environment: t4g.micro + public IPv4 over 730 hours + a 10 GB gp3 root volume. */
  environmentUsdPerMonth: cents(instancePerMonth),
  /** Idle cost of the load-balanced web environment: 2 such instances, an ALB and its 2 public addresses. */
  loadBalancedUsdPerMonth: cents(loadBalancedPerMonth),
  /** The green environment the swap step creates with BEANSTALK_GREEN=create, per hour (one single instance). */
  greenUsdPerHour: Math.round((instancePerMonth / 730) * 10_000) / 10_000,
  exerciseTiming: {
    /** How often a step reads the environment's status while it waits for an update to finish. */
    pollSeconds: 15,
    /** How long a step waits for an environment update (a deployment, an option change, a swap) to finish. */
    updateDeadlineSeconds: 900,
    /** How long the precedence step asks the app for the value it expects after an update, before failing with what it got. */
    appDeadlineSeconds: 120,
    /** How long the worker step waits for the SQS daemon to take the message and the app to answer 200. */
    workerDeadlineSeconds: 300,
    /** Reads in a row that must find the worker queue empty: SQS counts are approximate and lag a send. */
    emptyReadsInARow: 3,
  },
} as const;
