import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { BeanstalkApp, BeanstalkPlatform, DeploymentPolicy, VersionLifecycle } from '../../lib/beanstalk-app';
import { QueueWithDlq } from '../../lib/queue-with-dlq';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { labVpc } from '../support/lab-vpc';
import type { beanstalkLab } from './lab';
import { BEANSTALK_LAB, SOURCE_BUNDLE_DIR } from './constants';

/**
 * Elastic Beanstalk lab: an application with a version built from ./app, a lifecycle policy and a saved
 * configuration ($0 idle); a web environment (single instance, or load-balanced) and a worker environment behind flags.
 */
export class BeanstalkLabStack extends LabStack<typeof beanstalkLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    const { precedence } = BEANSTALK_LAB;

    const bundle = new s3assets.Asset(this, 'SourceBundle', { path: SOURCE_BUNDLE_DIR });
    const pinned = this.parameter('platform');
    const app = new BeanstalkApp(this, 'App', {
      // A pinned version goes stale (new environments may use only a branch's latest one): looked up at deploy time.
      platform: pinned ? BeanstalkPlatform.named(pinned) : BeanstalkPlatform.latestOfBranch(BEANSTALK_LAB.platformBranch),
      sourceBundle: { bucket: bundle.bucket, key: bundle.s3ObjectKey },
      // The bundles are CDK assets in the bootstrap bucket, which CDK owns: versions go, their bundles stay.
      versionLifecycle: VersionLifecycle.maxCount(BEANSTALK_LAB.maxVersions, { deleteSourceFromS3: false }),
      savedOptions: [{ namespace: precedence.namespace, optionName: precedence.optionName, value: precedence.savedConfiguration }],
      description: 'beanstalk lab: versions from labs/beanstalk/app',
    });

    const outputs: Record<string, string> = {
      ApplicationName: app.application.ref,
      VersionLabel: app.version.ref,
      SavedConfigurationName: app.savedConfiguration.ref,
      SourceBundleBucket: bundle.s3BucketName,
      SourceBundleKey: bundle.s3ObjectKey,
    };

    const loadBalanced = this.feature('load-balanced');
    const web = this.feature('environment') || loadBalanced;
    const worker = this.feature('worker');
    const vpc = web || worker ? this.vpc() : undefined;
    if (vpc && web) {
      const { environment } = app.addEnvironment('Web', {
        vpc,
        instanceType: BEANSTALK_LAB.instanceType,
        rootVolumeGiB: BEANSTALK_LAB.rootVolumeGiB,
        deploymentPolicy: DeploymentPolicy.named(this.parameter('deployment-policy') ?? BEANSTALK_LAB.defaultDeploymentPolicy),
        loadBalanced: loadBalanced ? { minInstances: BEANSTALK_LAB.loadBalancedInstances, maxInstances: BEANSTALK_LAB.loadBalancedInstances } : undefined,
        managedUpdates: { preferredStartTime: BEANSTALK_LAB.maintenanceWindow, updateLevel: 'minor' },
        description: `beanstalk lab: ${loadBalanced ? 'load-balanced' : 'single-instance'} web environment`,
      });
      outputs.WebEnvironmentName = environment.ref;
      outputs.WebEnvironmentUrl = environment.attrEndpointUrl;
    }
    if (vpc && worker) {
      // The daemon's default visibility timeout is 300 s: the queue hides a message as long while the app works on it.
      const jobs = new QueueWithDlq(this, 'WorkerJobs', { visibilityTimeout: Duration.seconds(300), maxReceiveCount: 3 });
      const { environment } = app.addEnvironment('Worker', {
        vpc,
        instanceType: BEANSTALK_LAB.instanceType,
        rootVolumeGiB: BEANSTALK_LAB.rootVolumeGiB,
        managedUpdates: { preferredStartTime: BEANSTALK_LAB.maintenanceWindow, updateLevel: 'minor' },
        worker: { queue: jobs.queue, httpPath: '/jobs' },
        description: 'beanstalk lab: single-instance worker environment',
      });
      outputs.WorkerEnvironmentName = environment.ref;
      outputs.WorkerQueueUrl = jobs.queue.queueUrl;
      outputs.WorkerDlqUrl = jobs.deadLetterQueue.queueUrl;
    }
    this.addOutputs(outputs);
  }

  /** Public subnets only: no NAT gateway to pay for; the instances reach AWS APIs through their public addresses. */
  private vpc(): ec2.Vpc {
    return labVpc(this, 'Vpc', { subnets: 'public', maxAzs: 2 });
  }
}
