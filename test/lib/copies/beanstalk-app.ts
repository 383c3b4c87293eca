import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BeanstalkApp, BeanstalkPlatform, DeploymentPolicy, VersionLifecycle } from '../../../lib/beanstalk-app';

/** A Node.js application on its branch's recommended platform, kept to its 10 newest versions, with one single-instance web environment deployed immutably. */
export function build(stack: Stack): void {
  const bundles = s3.Bucket.fromBucketName(stack, 'Bundles', 'my-app-bundles');
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  const app = new BeanstalkApp(stack, 'App', {
    platform: BeanstalkPlatform.latestOfBranch('Node.js 22 running on 64bit Amazon Linux 2023'),
    sourceBundle: { bucket: bundles, key: 'app-v1.zip' },
    versionLifecycle: VersionLifecycle.maxCount(10),
    savedOptions: [{ namespace: 'aws:elasticbeanstalk:application:environment', optionName: 'STAGE', value: 'test' }],
  });
  app.addEnvironment('Web', { vpc, deploymentPolicy: DeploymentPolicy.immutable() });
}
