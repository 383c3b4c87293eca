/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import * as path from 'node:path';
import { LabDuration } from '../support/duration';

/** The sample application the pipeline builds and deploys; its files seed the CodeCommit repository. */
export const SAMPLE_APP_DIR = path.join(__dirname, 'app');

export const CICD_LAB = {
  aliasName: 'live',
  functionTimeout: LabDuration.seconds(5),
  initialGreeting: 'Hello from Parameter Store',
} as const;

/** Who reaches the repository and who hears about it (README, "Repository access"). */
export const REPOSITORY_ACCESS = {
  /** The branch the pipeline releases from: the cross-account developer role may not push to it. */
  protectedBranch: 'main',
  /** Repository events the notification rule sends to its topic: work starting, review requested, work merged. */
  notifiedEvents: [
    'codecommit-repository-branches-and-tags-created',
    'codecommit-repository-pull-request-created',
    'codecommit-repository-pull-request-merged',
  ],
  /** An AWS account id, as the `trusted-account` parameter takes it. */
  accountIdPattern: /^\d{12}$/,
  /** The service that delivers notification rules' events to their targets: the only publisher the topic allows. */
  notificationsPrincipal: 'codestar-notifications.amazonaws.com',
  /** What the developer role may do on the repository, sorted: clone, fetch and pull; push (not to the protected branch). */
  gitActions: ['codecommit:GitPull', 'codecommit:GitPush'],
  /** The profile name the README and the exercise give developers for the role, as git-remote-codecommit URLs use it. */
  developerProfile: 'cicd-developer',
  /** How long the exercise waits (see defineTiming). */
  exerciseTiming: {
    /** Pause between two reads of the notification rule while CodeStar Notifications delivers the branch-created event. */
    deliveryPollSeconds: 5,
    /** How long the step waits for the topic's target status to become ACTIVE or UNREACHABLE before failing. */
    deliveryDeadlineSeconds: 120,
  },
} as const;
