/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

export const CODEDEPLOY_EC2_LAB = {
  instanceType: 't4g.micro',
  /** Instances with `-c codedeploy-ec2:instances=true`; 0 otherwise (the group exists, empty). */
  instances: 2,
  rootVolumeGb: 8,
  /** Key prefix of the revisions in the revision bucket: the instances may read nothing else. */
  revisionPrefix: 'revisions/',
  /** Revisions expire: each exercise run uploads new ones. */
  revisionExpiration: LabDuration.days(30),
  /** The blue/green group the exercise creates with the SDK (CloudFormation cannot: README) and `clean-up` deletes. */
  blueGreenGroupName: 'BlueGreen',
  /** Blue/green: how long the original instances stay, deregistered, after traffic moved to the copy (0 to 2,880). */
  terminationWaitMinutes: 5,
  /** A custom minimum of healthy hosts that 2 instances cannot meet: 75 % of 2 rounds up to 2. */
  unmeetablePercent: 75,
  /** The sample application listens here; the ALB health check reads `healthPath`. */
  appPort: 80,
  healthPath: '/version.txt',
  /** A file that, when the revision carries it, makes ValidateService fail on purpose. */
  breakMarker: 'BREAK_VALIDATE_SERVICE',
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** Between two reads of a deployment's status. */
    pollSeconds: 10,
    /** A deployment to 2 instances (agent download, 9 hooks, deregistration delay) finishes well within this. */
    deploymentDeadlineSeconds: 900,
    /** A blue/green deployment launches 2 instances first. */
    blueGreenDeadlineSeconds: 1500,
    /** Deleting a copied Auto Scaling group terminates its instances first. */
    groupDeletionDeadlineSeconds: 600,
  },
} as const;
