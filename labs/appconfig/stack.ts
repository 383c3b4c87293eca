import * as path from 'node:path';
import { Aws, CfnMapping, Duration } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { ConfigRollout, RolloutGrowth } from '../../lib/config-rollout';
import { SafeNodejsFunction } from '../../lib/core/function';
import { LabStack, LabStackProps } from '../support/lab-stack';
import type { appconfigLab } from './lab';
import { HostedVersionSweeper } from './version-sweeper';
import { APPCONFIG_LAB, BETA_SEARCH, betaSearchFlags, CHECKOUT_SCHEMA } from './constants';

const handlerEntry = (handler: string) => path.join(__dirname, '..', '..', 'lambda', handler, 'index.ts');

/**
 * The AppConfig agent Lambda extension's layer for arm64, per Region, from CDK's own table
 * (`Application.getLambdaLayerVersionArn`), which needs a Region known at synth: this environment-agnostic stack looks
 * it up at deploy time in a mapping of every Region the table knows.
 */
function agentLayerArn(scope: Construct): string {
  const mapping: Record<string, Record<string, string>> = {};
  for (const region of RegionInfo.regions) {
    const arn = appconfig.Application.getLambdaLayerVersionArn(region.name, appconfig.Platform.ARM_64);
    if (arn) mapping[region.name] = { arm64: arn };
  }
  return new CfnMapping(scope, 'AppConfigAgentLayer', { mapping }).findInMap(Aws.REGION, 'arm64');
}

/**
 * AppConfig lab: an application with two environments (dev, where a version is tried at once, and live, which takes it
 * gradually), a feature-flag profile and a freeform profile guarded by a JSON Schema and a Lambda validator, a custom
 * linear deployment strategy, a function reading the flag through the agent extension and one reading it through the
 * data-plane API; with `rollback-alarm`, an alarm that rolls deployments back.
 */
export class AppconfigLabStack extends LabStack<typeof appconfigLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    // Names derived from the stack's name rather than literals, as for every named lab resource.
    const named = (suffix: string) => `${Aws.STACK_NAME}-${suffix}`;
    // The rollback alarm watches the flag reader by this name: a reference to the function instead would close the
    // dependency cycle function → its policy → environment → alarm → function.
    const flagReaderName = named('flag-reader');

    const application = new appconfig.Application(this, 'Application', {
      applicationName: named('shop'),
      description: 'AppConfig lab: feature flags and checkout settings',
    });

    const rollbackAlarm = this.feature('rollback-alarm')
      ? new cloudwatch.Alarm(this, 'RollbackAlarm', {
          alarmDescription: 'Errors of the flag reader: ALARM during a deployment makes AppConfig roll it back',
          metric: new cloudwatch.Metric({
            namespace: 'AWS/Lambda',
            metricName: 'Errors',
            dimensionsMap: { FunctionName: flagReaderName },
            statistic: 'Sum',
            period: Duration.minutes(1),
          }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        })
      : undefined;

    const rollout = new ConfigRollout(this, 'Rollout', {
      application,
      environmentName: named('live'),
      deploymentStrategyName: named('linear-50'),
      growth: RolloutGrowth.linear(APPCONFIG_LAB.rollout.growthFactor),
      deploymentDuration: Duration.minutes(APPCONFIG_LAB.rollout.deploymentDurationMinutes),
      finalBakeTime: Duration.minutes(APPCONFIG_LAB.rollout.finalBakeTimeMinutes),
      rollbackAlarms: rollbackAlarm ? [rollbackAlarm] : [],
      // The readers poll the environment: without this, deletion protection could refuse `cdk destroy` for an hour.
      deletionProtectionCheck: appconfig.DeletionProtectionCheck.BYPASS,
    });
    // Where a version is tried before live: no monitor, deployed at once.
    const dev = new appconfig.Environment(this, 'DevEnvironment', {
      application,
      environmentName: named('dev'),
      description: 'Where a configuration version is tried first, deployed at once, before live takes it gradually',
      deletionProtectionCheck: appconfig.DeletionProtectionCheck.BYPASS,
    });
    // What the stack itself deploys (version 1 of each profile) goes out at once, and so does what the exercise tries in
    // dev; the lab's linear strategy is for live.
    const immediately = new appconfig.DeploymentStrategy(this, 'Immediately', {
      deploymentStrategyName: named('immediately'),
      rolloutStrategy: appconfig.RolloutStrategy.linear({
        growthFactor: 100,
        deploymentDuration: Duration.minutes(0),
        finalBakeTime: Duration.minutes(0),
      }),
    });

    const flags = new appconfig.HostedConfiguration(this, 'Flags', {
      application,
      name: named('flags'),
      type: appconfig.ConfigurationType.FEATURE_FLAGS,
      content: appconfig.ConfigurationContent.fromInlineJson(JSON.stringify(betaSearchFlags(APPCONFIG_LAB.initialFlags))),
      // Without a strategy the configuration would create a canary one of its own (10 %, 20 minutes) it never uses.
      deploymentStrategy: immediately,
      deletionProtectionCheck: appconfig.DeletionProtectionCheck.BYPASS,
    });

    const validator = new SafeNodejsFunction(this, 'CheckoutValidator', {
      entry: handlerEntry('appconfig-validator'),
      description: 'AppConfig Lambda validator of the checkout settings: refuses a maintenance window that ends before it starts',
      timeout: Duration.seconds(5),
      environment: { MAX_MAINTENANCE_WINDOW_HOURS: String(APPCONFIG_LAB.maxMaintenanceWindowHours) },
    });
    // LambdaValidator.fromFunction adds this permission without a SourceAccount unless a child of this id exists: only
    // AppConfig acting for this account may invoke the validator (confused-deputy protection).
    validator.addPermission('AppConfigPermission', { principal: new iam.ServicePrincipal('appconfig.amazonaws.com'), sourceAccount: this.account });
    const checkout = new appconfig.HostedConfiguration(this, 'Checkout', {
      application,
      name: named('checkout'),
      type: appconfig.ConfigurationType.FREEFORM,
      content: appconfig.ConfigurationContent.fromInlineJson(JSON.stringify(APPCONFIG_LAB.initialCheckout)),
      validators: [
        appconfig.JsonSchemaValidator.fromInline(JSON.stringify(CHECKOUT_SCHEMA)),
        appconfig.LambdaValidator.fromFunction(validator),
      ],
      deploymentStrategy: immediately,
      deletionProtectionCheck: appconfig.DeletionProtectionCheck.BYPASS,
    });

    // Version 1 of each profile goes out with the stack, at once, to each environment. Not through `deployTo`: it names
    // the deployment after a hash of the environment's name, which here is a token whose text changes between synths,
    // so every `cdk deploy` would replace the deployment and send version 1 out again over what the exercise deployed.
    // Live's keep the ids they had before dev existed: a new id would replace them and send version 1 out again.
    for (const [prefix, environment] of [['', rollout.environment], ['Dev', dev]] as const) {
      const deployVersionOne = (configuration: appconfig.HostedConfiguration, profileName: string) =>
        new appconfig.CfnDeployment(this, `${prefix}${profileName}VersionOne`, {
          applicationId: application.applicationId,
          environmentId: environment.environmentId,
          configurationProfileId: configuration.configurationProfileId,
          configurationVersion: String(configuration.versionNumber),
          deploymentStrategyId: immediately.deploymentStrategyId,
          description: 'Version 1, deployed with the stack',
        });
      deployVersionOne(checkout, 'Checkout').addResourceDependency(deployVersionOne(flags, 'Flags'), 'an environment takes one deployment at a time');
    }

    // Deleted before the profiles: removes the versions the exercise created, which would block their deletion.
    new HostedVersionSweeper(this, 'ExerciseVersions', { application, profiles: [flags, checkout] });

    const readerEnvironment = {
      APPCONFIG_APPLICATION: application.applicationId,
      APPCONFIG_ENVIRONMENT: rollout.environment.environmentId,
      APPCONFIG_PROFILE: flags.configurationProfileId,
    };
    const flagReader = new SafeNodejsFunction(this, 'FlagReader', {
      entry: handlerEntry('appconfig-flag-reader'),
      functionName: flagReaderName,
      description: 'Reads the beta-search flag through the AppConfig agent extension on localhost:2772',
      timeout: Duration.seconds(10),
      layers: [lambda.LayerVersion.fromLayerVersionArn(this, 'AppConfigAgent', agentLayerArn(this))],
      environment: {
        ...readerEnvironment,
        FLAG_NAME: BETA_SEARCH,
        AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS: String(APPCONFIG_LAB.extensionPollIntervalSeconds),
      },
    });
    const sessionReader = new SafeNodejsFunction(this, 'SessionReader', {
      entry: handlerEntry('appconfig-session-reader'),
      description: 'Reads the flags through StartConfigurationSession / GetLatestConfiguration, caching between polls',
      timeout: Duration.seconds(10),
      environment: { ...readerEnvironment, MINIMUM_POLL_INTERVAL_SECONDS: String(APPCONFIG_LAB.extensionPollIntervalSeconds) },
    });
    // Both readers may open sessions on the flags profile of this environment, and nothing else.
    const readFlags = new iam.PolicyStatement({
      actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
      resources: [`${rollout.environment.environmentArn}/configuration/${flags.configurationProfileId}`],
    });
    flagReader.addToRolePolicy(readFlags);
    sessionReader.addToRolePolicy(readFlags);

    const outputs: Record<string, string> = {
      ApplicationId: application.applicationId,
      EnvironmentId: rollout.environment.environmentId,
      DevEnvironmentId: dev.environmentId,
      FlagsProfileId: flags.configurationProfileId,
      CheckoutProfileId: checkout.configurationProfileId,
      DeploymentStrategyId: rollout.deploymentStrategy.deploymentStrategyId,
      ImmediateStrategyId: immediately.deploymentStrategyId,
      FlagReaderFunctionName: flagReader.functionName,
      SessionReaderFunctionName: sessionReader.functionName,
    };
    if (rollbackAlarm) outputs.RollbackAlarmName = rollbackAlarm.alarmName;
    this.addOutputs(outputs);
  }
}
