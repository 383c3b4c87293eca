import { Aspects, Aws, CfnCondition, CfnMapping, CfnOutput, CfnParameter, Duration, Fn, Token } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { IAC_LAB } from './constants';
import { CfnInitInstance } from './cfn-init-instance';
import { ConstructLevels, denyInsecureTransport, QueuesDeclareEncryption } from './construct-levels';
import type { iacLab } from './lab';
import { SamApp } from './sam-app';
import { RegionalStackSet } from './stack-set';
import { StackSweeper } from './stack-sweeper';

const { stage, archive, owner, signingSecret, stackSetRegions } = IAC_LAB.parameters;

/**
 * The Region each lab Region pairs with for the StackSet's second instance: a Region enabled by default in every
 * account, in the same part of the world. A Region missing here fails the deploy ("Mapping RegionMap has no key").
 */
export const NEIGHBOUR_REGIONS: Readonly<Record<string, string>> = {
  'us-east-1': 'us-west-2', 'us-east-2': 'us-east-1', 'us-west-1': 'us-west-2', 'us-west-2': 'us-east-1',
  'ca-central-1': 'us-east-1', 'ca-west-1': 'ca-central-1', 'mx-central-1': 'us-east-1', 'sa-east-1': 'us-east-1',
  'eu-west-1': 'eu-central-1', 'eu-west-2': 'eu-west-1', 'eu-west-3': 'eu-west-1', 'eu-central-1': 'eu-west-1',
  'eu-central-2': 'eu-central-1', 'eu-north-1': 'eu-west-1', 'eu-south-1': 'eu-central-1', 'eu-south-2': 'eu-west-3',
  'il-central-1': 'eu-central-1', 'me-south-1': 'eu-central-1', 'me-central-1': 'eu-central-1', 'af-south-1': 'eu-west-1',
  'ap-northeast-1': 'ap-northeast-3', 'ap-northeast-2': 'ap-northeast-1', 'ap-northeast-3': 'ap-northeast-1',
  'ap-southeast-1': 'ap-southeast-2', 'ap-southeast-2': 'ap-southeast-1', 'ap-south-1': 'ap-southeast-1',
  'ap-south-2': 'ap-south-1', 'ap-east-1': 'ap-southeast-1', 'ap-east-2': 'ap-northeast-1',
  'ap-southeast-3': 'ap-southeast-1', 'ap-southeast-4': 'ap-southeast-2', 'ap-southeast-5': 'ap-southeast-1',
  'ap-southeast-6': 'ap-southeast-2', 'ap-southeast-7': 'ap-southeast-1',
};

/**
 * Infrastructure-as-code lab. The stack is its own lesson: template parameters (allowed values, a pattern, NoEcho),
 * a Region mapping, conditions, template metadata, intrinsic functions and an exported output; the three construct
 * levels on SQS with an escape hatch and an aspect; a SAM template in a nested stack; a StackSet with self-managed
 * roles; a custom resource that cleans up after the exercise.
 */
export class IacLabStack extends LabStack<typeof iacLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    Aspects.of(this).add(new QueuesDeclareEncryption());

    // Parameters: the values a deploy may change without a new template. `-c iac:<name>` sets their defaults.
    const stageParameter = new CfnParameter(this, stage.parameter, {
      description: 'Deployment stage: part of the Orders queue name (changing it replaces the queue) and its retention',
      allowedValues: [...stage.allowedValues],
      default: this.parameter('stage') ?? stage.defaultValue,
    });
    const archiveParameter = new CfnParameter(this, archive.parameter, {
      description: 'Whether to create the archive queue (condition CreateArchive)',
      allowedValues: [...archive.allowedValues],
      default: this.parameter('archive') ?? archive.defaultValue,
    });
    const ownerParameter = new CfnParameter(this, owner.parameter, {
      description: 'Who owns the anatomy queues (a tag)',
      allowedPattern: owner.allowedPattern,
      constraintDescription: 'must be 2 to 31 lowercase letters, digits or hyphens, starting with a letter',
      default: this.parameter('owner') ?? owner.defaultValue,
    });
    const secretParameter = new CfnParameter(this, signingSecret.parameter, {
      description: 'Key of the HMAC the SAM function adds to what it logs (NoEcho: DescribeStacks shows ****)',
      noEcho: true,
      minLength: 16,
      allowedPattern: signingSecret.allowedPattern,
      constraintDescription: 'must be 16 to 64 letters or digits',
      default: signingSecret.defaultValue,
    });
    const regionCountParameter = new CfnParameter(this, stackSetRegions.parameter, {
      description: 'StackSet instances: in this Region only (1) or in its neighbour Region too (2)',
      allowedValues: [...stackSetRegions.allowedValues],
      default: this.parameter('stackset-regions') ?? stackSetRegions.defaultValue,
    });

    // Metadata: how the console groups and labels the parameters on the create-stack page.
    this.templateOptions.metadata = {
      'AWS::CloudFormation::Interface': {
        ParameterGroups: [
          { Label: { default: 'Template anatomy' }, Parameters: [stage.parameter, archive.parameter, owner.parameter] },
          { Label: { default: 'SAM application' }, Parameters: [signingSecret.parameter] },
          { Label: { default: 'StackSet' }, Parameters: [stackSetRegions.parameter] },
        ],
        ParameterLabels: { [signingSecret.parameter]: { default: 'HMAC key (NoEcho)' } },
      },
    };

    const regionMap = new CfnMapping(this, 'RegionMap', {
      mapping: Object.fromEntries(Object.entries(NEIGHBOUR_REGIONS).map(([region, neighbour]) => [region, { Neighbour: neighbour }])),
    });
    const createArchive = new CfnCondition(this, 'CreateArchive', { expression: Fn.conditionEquals(archiveParameter.valueAsString, 'true') });
    const isProd = new CfnCondition(this, 'IsProd', { expression: Fn.conditionEquals(stageParameter.valueAsString, 'prod') });
    const twoRegions = new CfnCondition(this, 'TwoRegions', { expression: Fn.conditionEquals(regionCountParameter.valueAsString, '2') });

    const levels = new ConstructLevels(this, 'Levels');
    const sharedDlq = levels.levelTwo;

    // A custom name, built with Fn::Sub from a parameter: changing Stage changes the name, and SQS cannot rename a
    // queue, so CloudFormation replaces it (creates the new one, then deletes the old one).
    const orders = new sqs.CfnQueue(this, 'OrdersQueue', {
      queueName: Fn.sub('${AWS::StackName}-orders-${Stage}'),
      sqsManagedSseEnabled: true,
      messageRetentionPeriod: Token.asNumber(Fn.conditionIf(isProd.logicalId, Duration.days(14).toSeconds(), Duration.days(4).toSeconds())),
      redrivePolicy: { deadLetterTargetArn: sharedDlq.queueArn, maxReceiveCount: 3 },
      tags: [{ key: 'owner', value: ownerParameter.valueAsString }, { key: 'stage', value: stageParameter.valueAsString }],
    });
    denyInsecureTransport(this, 'OrdersQueuePolicy', [orders]);

    // A resource and its policy that exist only when the condition holds; the output below too.
    const archiveQueue = new sqs.CfnQueue(this, 'ArchiveQueue', {
      sqsManagedSseEnabled: true,
      messageRetentionPeriod: Duration.days(14).toSeconds(),
      redrivePolicy: { deadLetterTargetArn: sharedDlq.queueArn, maxReceiveCount: 3 },
      tags: [{ key: 'owner', value: ownerParameter.valueAsString }],
    });
    archiveQueue.cfnOptions.condition = createArchive;
    denyInsecureTransport(this, 'ArchiveQueuePolicy', [archiveQueue]).cfnOptions.condition = createArchive;

    const sweeper = new StackSweeper(this, 'ExerciseStacks', {
      stackNamePrefix: `${Aws.STACK_NAME}${IAC_LAB.exerciseStackInfix}`,
      serviceTimeout: Duration.seconds(IAC_LAB.sweeperTimeoutSeconds),
    });
    const samApp = new SamApp(this, 'SamApp', {
      signingSecret: secretParameter.valueAsString,
      exerciseStackPrefix: sweeper.stackNamePrefix,
    });

    const regions = Token.asList(Fn.conditionIf(twoRegions.logicalId, [Aws.REGION, regionMap.findInMap(Aws.REGION, 'Neighbour')], [Aws.REGION]));
    const stackSet = new RegionalStackSet(this, 'Regional', { regions });

    const cfnInit = this.feature('cfn-init')
      ? new CfnInitInstance(this, 'CfnInit', {
        configuredFile: IAC_LAB.cfnInit.configuredFile,
        signalTimeout: Duration.minutes(IAC_LAB.cfnInit.signalTimeoutMinutes),
      })
      : undefined;

    new CfnOutput(this, 'SharedDlqArn', {
      description: 'ARN of the shared DLQ (the L2 queue), exported for other stacks to import',
      value: sharedDlq.queueArn,
      exportName: Fn.sub(`\${AWS::StackName}${IAC_LAB.exportSuffix}`),
    });
    new CfnOutput(this, 'ArchiveQueueUrl', { value: archiveQueue.ref, condition: createArchive });
    this.addOutputs({
      OrdersQueueUrl: orders.ref,
      // Fn::Select picks one item of a list: the queue's name is the 5th part of its URL split at "/".
      OrdersQueueName: Fn.select(4, Fn.split('/', orders.ref)),
      ArchiveState: Token.asString(Fn.conditionIf(createArchive.logicalId, 'archive queue created', 'no archive queue')),
      LevelOneQueueUrl: levels.levelOne.ref,
      LevelTwoQueueUrl: sharedDlq.queueUrl,
      LevelThreeQueueUrl: levels.levelThree.queue.queueUrl,
      SamStackId: samApp.stackId,
      SamFunctionName: samApp.functionName,
      StackSetName: stackSet.stackSet.stackSetName,
      StackSetRegions: Fn.join(',', regions),
      StackSetAdministrationRoleArn: stackSet.administrationRole.roleArn,
      StackSetExecutionRoleName: stackSet.executionRole.roleName,
      ExerciseStackPrefix: sweeper.stackNamePrefix,
      ...(cfnInit ? { CfnInitInstanceId: cfnInit.instance.instanceId } : {}),
    });
  }
}
