import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmNotificationOptions, notifyOnAlarmAndOk } from '../core/alarms';
import { PackageStore } from './package-store';

/**
 * Failure notifications: on by default (`notifications: false` turns them off). `alarmTopic` hears the EventBridge
 * rules and the `FailedBuilds` alarm (ALARM and OK). @default a topic created by the construct
 */
export type PipelineNotificationsOptions = AlarmNotificationOptions;

/** Creates the notifications topic, encrypted with no key: see its acknowledgement. */
export function createNotificationTopic(scope: Construct): sns.Topic {
  const topic = new sns.Topic(scope, 'Notifications', { enforceSSL: true });
  Validations.of(topic).acknowledge({
    id: 'AwsSolutions-SNS2',
    reason:
      'EventBridge rules and CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key; a ' +
      'customer managed key would add $1/month. The topic carries build, pipeline and alarm state changes, no data.',
  });
  return topic;
}

/** What the notification rules watch. */
export interface NotifiedParts {
  readonly pipeline: codepipeline.IPipeline;
  /** Every project of the pipeline; the alarm watches the first (the Build stage's). */
  readonly projects: [codebuild.IProject, ...codebuild.IProject[]];
  readonly deployment: { readonly applicationName: string; readonly deploymentGroupName: string };
  readonly packageStore?: PackageStore;
}

/**
 * EventBridge rules to `topic` for failed builds, failed pipeline executions, failed or stopped deployments and
 * package-version changes, and the `FailedBuilds` alarm of the build project, which returns the alarm.
 */
export function addFailureNotifications(scope: Construct, topic: sns.ITopic, parts: NotifiedParts): cloudwatch.Alarm {
  const rule = (id: string, description: string, eventPattern: events.EventPattern) =>
    new events.Rule(scope, id, { description, eventPattern, targets: [new targets.SnsTopic(topic)] });
  const path = scope.node.path;
  rule('BuildFailedRule', `Failed CodeBuild builds of ${path}`, {
    source: ['aws.codebuild'],
    detailType: ['CodeBuild Build State Change'],
    detail: { 'build-status': ['FAILED'], 'project-name': parts.projects.map((p) => p.projectName) },
  });
  rule('PipelineFailedRule', `Failed executions of ${path}`, {
    source: ['aws.codepipeline'],
    detailType: ['CodePipeline Pipeline Execution State Change'],
    detail: { state: ['FAILED'], pipeline: [parts.pipeline.pipelineName] },
  });
  const { applicationName, deploymentGroupName } = parts.deployment;
  rule('DeploymentFailedRule', `Failed or rolled-back CodeDeploy deployments of ${path}`, {
    source: ['aws.codedeploy'],
    detailType: ['CodeDeploy Deployment State-change Notification'],
    detail: { state: ['FAILURE', 'STOP'], application: [applicationName], deploymentGroup: [deploymentGroupName] },
  });
  if (parts.packageStore) {
    const { domain, repository } = parts.packageStore;
    rule('PackageVersionRule', `Package versions created, changed or deleted in the CodeArtifact repository of ${path}`, {
      source: ['aws.codeartifact'],
      detailType: ['CodeArtifact Package Version State Change'],
      detail: { domainName: [domain.attrName], repositoryName: [repository.attrName] },
    });
  }
  const failedBuilds = new cloudwatch.Alarm(scope, 'FailedBuildsAlarm', {
    alarmDescription: `Builds of ${path} failed`,
    metric: parts.projects[0].metricFailedBuilds({ period: Duration.minutes(5), statistic: 'Sum' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  notifyOnAlarmAndOk(topic, [failedBuilds]);
  return failedBuilds;
}
