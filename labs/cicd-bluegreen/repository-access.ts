import { Aws, Duration, Fn, Validations } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as notifications from 'aws-cdk-lib/aws-codestarnotifications';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { REPOSITORY_ACCESS } from './constants';

export interface RepositoryAccessProps {
  readonly repository: codecommit.IRepository;
  /** The account whose principals may assume the developer role (its root, so that account's IAM decides who). */
  readonly trustedAccount: string;
  /**
   * A customer managed key for the notifications topic. The AWS managed SNS key cannot be used: its key policy
   * cannot be changed to let CodeStar Notifications use it. @default the topic is not encrypted at rest
   */
  readonly topicKey?: kms.Key;
}

/**
 * Who reaches the lab's repository, and who hears about it: a notification rule on repository events to an SNS topic
 * only CodeStar Notifications (for this account) may publish to, and a developer role another account assumes to
 * pull and push over git-remote-codecommit, but not to push to the protected branch.
 */
export class RepositoryAccess extends Construct {
  public readonly topic: sns.Topic;
  public readonly notificationRule: notifications.CfnNotificationRule;
  public readonly developerRole: iam.Role;

  constructor(scope: Construct, id: string, props: RepositoryAccessProps) {
    super(scope, id);
    const { repository, trustedAccount, topicKey } = props;

    this.topic = new sns.Topic(this, 'Topic', { enforceSSL: true, masterKey: topicKey });
    // Written out rather than granted by the notification rule's target binding, which adds no source condition.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CodeStarNotificationsOfThisAccountPublish',
        principals: [new iam.ServicePrincipal(REPOSITORY_ACCESS.notificationsPrincipal)],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    if (topicKey) {
      topicKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CodeStarNotificationsPublishToTheEncryptedTopic',
          principals: [new iam.ServicePrincipal(REPOSITORY_ACCESS.notificationsPrincipal)],
          actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:ViaService': `sns.${Aws.REGION}.amazonaws.com` } },
        }),
      );
    } else {
      Validations.of(this.topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'CodeStar Notifications can publish to an encrypted topic only if the key policy lets it, and the AWS managed ' +
          'SNS key policy cannot be changed; the customer managed key is the $1/month encryption flag. The topic carries ' +
          'repository event summaries (branch, pull request, author), no code.',
      });
    }

    this.notificationRule = new notifications.CfnNotificationRule(this, 'Rule', {
      // Unique in the account and Region, as a notification rule's name must be, like the stack's (a lab stack's
      // name is short: the rule's is at most 64 characters).
      name: Fn.join('-', [Aws.STACK_NAME, 'repository-events']),
      resource: repository.repositoryArn,
      detailType: 'BASIC',
      eventTypeIds: [...REPOSITORY_ACCESS.notifiedEvents],
      targets: [{ targetType: 'SNS', targetAddress: this.topic.topicArn }],
    });
    // The topic policy must exist before the rule's first delivery check.
    this.notificationRule.node.addDependency(this.topic);

    this.developerRole = new iam.Role(this, 'DeveloperRole', {
      description: `Developers of account ${trustedAccount} assume it to pull and push (not to ${REPOSITORY_ACCESS.protectedBranch}) with git-remote-codecommit`,
      assumedBy: new iam.AccountPrincipal(trustedAccount),
      maxSessionDuration: Duration.hours(1),
      inlinePolicies: {
        GitOnThisRepository: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'PullAndPush',
              actions: [...REPOSITORY_ACCESS.gitActions],
              resources: [repository.repositoryArn],
            }),
            // The form AWS documents for protected branches: a Deny on GitPush needs the Null condition as well,
            // because of how Git's git-receive-pack sends a push to CodeCommit.
            new iam.PolicyStatement({
              sid: 'NoPushToProtectedBranch',
              effect: iam.Effect.DENY,
              actions: ['codecommit:GitPush'],
              resources: [repository.repositoryArn],
              conditions: {
                StringEqualsIfExists: { 'codecommit:References': [`refs/heads/${REPOSITORY_ACCESS.protectedBranch}`] },
                Null: { 'codecommit:References': 'false' },
              },
            }),
          ],
        }),
      },
    });
  }
}
