import * as path from 'node:path';
import { Arn, Aws, Duration, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as actions from 'aws-cdk-lib/aws-ses-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { createFailureQueue, queueEncryption } from '../../lib/core/queues';
import { EmailSender, SenderIdentity } from '../../lib/email-sender';
import { labBucket } from '../support/lab-bucket';
import { LabConfigError, LabStack, LabStackProps } from '../support/lab-stack';
import type { sesLab } from './lab';
import { SES_LAB } from './constants';

/**
 * SES lab: a verified sender (the address, or its domain with Easy DKIM), a configuration set publishing bounces,
 * complaints and deliveries to SNS (a function records addresses to stop mailing) and every event to CloudWatch
 * metrics, a policy that allows sending as the sender only; optional SMTP credentials and receiving.
 */
export class SesLabStack extends LabStack<typeof sesLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    const email = this.parameter('email');
    const domain = this.parameter('domain');
    const hostedZoneId = this.parameter('hostedZoneId');
    const problems = [
      ...((domain === undefined) !== (hostedZoneId === undefined) ? ['ses:domain and ses:hostedZoneId go together: give both or neither'] : []),
      ...(domain !== undefined && email === undefined ? ['ses:domain needs ses:email, an address of the domain to send from'] : []),
    ];
    if (problems.length > 0) throw new LabConfigError(problems.join('; '));
    const zone =
      domain && hostedZoneId
        ? route53.PublicHostedZone.fromPublicHostedZoneAttributes(this, 'Zone', { hostedZoneId, zoneName: domain })
        : undefined;

    const suppressed = new dynamodb.TableV2(this, 'SuppressedAddresses', {
      partitionKey: { name: 'address', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    // SNS invokes the function asynchronously: after Lambda's two retries an event the handler rejects would be lost.
    const rejectedFeedback = createFailureQueue(this, 'RejectedFeedback', {
      endOfFailurePath:
        'This queue is the on-failure destination of the feedback function: it keeps the SNS events the function failed ' +
        'on after its retries, for an operator to read, and is the end of the failure path.',
    });
    const feedbackHandler = new SafeNodejsFunction(this, 'FeedbackHandler', {
      entry: path.join(__dirname, '../../lambda/ses-feedback/index.ts'),
      description: 'Records addresses that bounced permanently or complained, from SES events published to SNS',
      timeout: Duration.seconds(10),
      environment: { SUPPRESSION_TABLE: suppressed.tableName },
      onFailure: new SqsDestination(rejectedFeedback),
    });
    suppressed.grant(feedbackHandler, 'dynamodb:PutItem');

    const identity = email ? (zone ? SenderIdentity.domain(zone, email) : SenderIdentity.emailAddress(email)) : undefined;
    const sender = new EmailSender(this, 'Sender', { identity, feedback: { handler: feedbackHandler }, metrics: {} });

    const outputs: Record<string, string> = {
      ConfigurationSetName: sender.configurationSet.configurationSetName,
      SuppressionTableName: suppressed.tableName,
      FeedbackFunctionName: feedbackHandler.functionName,
      RejectedFeedbackQueueUrl: rejectedFeedback.queueUrl,
    };
    if (sender.feedbackTopic) outputs.FeedbackTopicArn = sender.feedbackTopic.topicArn;
    if (sender.identity && sender.fromAddress && sender.sendingPolicy) {
      outputs.SenderAddress = sender.fromAddress;
      outputs.IdentityName = sender.identity.emailIdentityName;
      outputs.SendingPolicyArn = sender.sendingPolicy.managedPolicyArn;
    }
    if (this.feature('smtp')) Object.assign(outputs, this.smtpCredentials(sender));
    if (this.feature('receiving')) Object.assign(outputs, this.receiving(domain, zone));
    this.addOutputs(outputs);
  }

  /**
   * An IAM user whose only right is the sender's policy, and its access key in a secret: the SMTP user name and key.
   * Without a sender (no ses:email) the user has no policy and its key is created inactive: a live credential that
   * can send as nobody would only be something to leak. (A synth error instead would break `-c ses:smtp=true` and
   * `labs:all-features` without parameters, which the docs and the catalogue checks synthesize.)
   */
  private smtpCredentials(sender: EmailSender): Record<string, string> {
    const user = new iam.User(this, 'SmtpUser');
    if (sender.sendingPolicy) user.addManagedPolicy(sender.sendingPolicy);
    const key = new iam.AccessKey(this, 'SmtpAccessKey', {
      user,
      status: sender.sendingPolicy ? iam.AccessKeyStatus.ACTIVE : iam.AccessKeyStatus.INACTIVE,
    });
    const secret = new secretsmanager.Secret(this, 'SmtpCredentials', {
      description: 'Access key of the SES lab SMTP user; the exercise derives the SMTP password from it',
      secretObjectValue: {
        accessKeyId: SecretValue.unsafePlainText(key.accessKeyId),
        secretAccessKey: key.secretAccessKey,
      },
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'An IAM access key is rotated by creating a second key and deleting the first, which a Secrets Manager rotation ' +
        'function would need IAM rights over users to do; for a lab user, destroy and redeploy rotates it.',
    });
    return { SmtpUserName: user.userName, SmtpCredentialsSecretArn: secret.secretArn };
  }

  /** A receipt rule set storing mail for the domain in S3 and notifying a topic; SES uses it only once it is active. */
  private receiving(domain: string | undefined, zone: route53.IPublicHostedZone | undefined): Record<string, string> {
    const bucket = labBucket(this, 'Inbound', {
      expiration: Duration.days(SES_LAB.inboundRetentionDays),
      withoutAccessLogs: 'Only SES writes here (its bucket policy names the account and the receipt rule set); the exercise reads.',
    });
    const topic = new sns.Topic(this, 'InboundTopic', { enforceSSL: true });
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'SES publishes through its service principal, which cannot use the AWS managed SNS key, and a customer managed ' +
        'key would add $1/month; the notification carries the mail object (From, To, Subject and the other headers, ' +
        'the object key) but not the body, which stays in the bucket.',
    });
    const ruleSet = new ses.ReceiptRuleSet(this, 'InboundRules');
    const ruleArns = Arn.format({ service: 'ses', resource: 'receipt-rule-set', resourceName: `${ruleSet.receiptRuleSetName}:receipt-rule/*` }, this);
    // CDK's S3 action lets SES write for any rule of the account (aws:SourceAccount only): deny every rule but this set's.
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['s3:PutObject'],
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        resources: [bucket.arnForObjects('*')],
        conditions: { ArnNotLike: { 'AWS:SourceArn': ruleArns } },
      }),
    );
    // CDK's S3 action grants SES the bucket but not the notification topic: SES must be allowed to publish, by this
    // account's rules only, before the rule is created.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['sns:Publish'],
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'AWS:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'AWS:SourceArn': ruleArns },
        },
      }),
    );
    const rule = ruleSet.addRule('StoreInS3', {
      recipients: domain ? [domain] : undefined,
      // Without a domain the rule would match every domain verified in the Region once the set is active: keep it off.
      enabled: domain !== undefined,
      scanEnabled: true,
      tlsPolicy: ses.TlsPolicy.REQUIRE,
      actions: [new actions.S3({ bucket, objectKeyPrefix: SES_LAB.inboundPrefix, topic })],
    });
    rule.node.addDependency(topic);
    // The exercise learns from the notification that its mail arrived and where SES stored it.
    const notifications = new sqs.Queue(this, 'InboundNotifications', {
      ...queueEncryption(undefined),
      enforceSSL: true,
      retentionPeriod: Duration.days(SES_LAB.inboundRetentionDays),
    });
    Validations.of(notifications).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'The exercise is its only reader and deletes the notification it waits for; the others expire with the mail, 7 days on.',
    });
    topic.addSubscription(new subscriptions.SqsSubscription(notifications, { rawMessageDelivery: true }));
    if (zone) {
      new route53.MxRecord(this, 'InboundMx', {
        zone,
        values: [{ priority: 10, hostName: `inbound-smtp.${Stack.of(this).region}.amazonaws.com` }],
      });
    }
    return {
      ReceiptRuleSetName: ruleSet.receiptRuleSetName,
      InboundBucketName: bucket.bucketName,
      InboundTopicArn: topic.topicArn,
      InboundQueueUrl: notifications.queueUrl,
      ...(domain ? { InboundDomain: domain } : {}),
    };
  }
}
