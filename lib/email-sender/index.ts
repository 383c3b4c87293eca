import { Arn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { ConstructUsageError, PropsValidator } from '../core/validation';
import { EMAIL_ADDRESS } from './address';

/** Limits of SES that EmailSender checks. */
export const SES_LIMITS = {
  /** RFC 5321: an address (local part, @, domain) is at most 254 characters in a path. */
  maxEmailAddressLength: 254,
} as const;

/** The identity mail is sent as: the address alone, or its whole domain. Built by the static factories. */
export abstract class SenderIdentity {
  /**
   * Verify the address alone: SES mails it a link, and mail can be sent from that exact address once it is clicked.
   */
  static emailAddress(fromAddress: string): SenderIdentity {
    return new (class extends SenderIdentity {
      readonly identity = ses.Identity.email(fromAddress);
      readonly fromAddress = fromAddress;
      readonly domainName = undefined;
    })();
  }

  /**
   * Verify the whole domain of `fromAddress` with Easy DKIM: the three DKIM CNAME records are written into the
   * zone, and any address of the domain or of its subdomains can send once SES sees them (the policy still allows
   * `fromAddress` only).
   */
  static domain(hostedZone: route53.IPublicHostedZone, fromAddress: string): SenderIdentity {
    return new (class extends SenderIdentity {
      readonly identity = ses.Identity.publicHostedZone(hostedZone);
      readonly fromAddress = fromAddress;
      readonly domainName = hostedZone.zoneName;
    })();
  }

  /** What CDK's EmailIdentity verifies. */
  abstract readonly identity: ses.Identity;
  /** The From address the sending policy allows. */
  abstract readonly fromAddress: string;
  /** The verified domain, when the domain is the identity. */
  abstract readonly domainName: string | undefined;
}

/** Sending events published to an SNS topic the construct creates, with a function subscribed to it. */
export interface EmailFeedbackOptions {
  /** The function that handles the events (each SNS message is one SES event record). @default none: subscribe yourself to `feedbackTopic` */
  readonly handler?: lambda.IFunction;
  /** The events published to the topic. @default bounce, complaint, delivery, reject and delivery delay */
  readonly events?: ses.EmailSendingEvent[];
}

/** Sending events counted as CloudWatch metrics (namespace AWS/SES) per configuration set. */
export interface EmailMetricsOptions {
  /** The events counted. @default send, delivery, bounce, complaint, reject, open, click, rendering failure */
  readonly events?: ses.EmailSendingEvent[];
}

export interface EmailSenderProps {
  /**
   * Who mail is sent as: `SenderIdentity.emailAddress(a)` or `SenderIdentity.domain(zone, a)`.
   * @default none: the configuration set serves identities verified elsewhere, and no sending policy is created
   */
  readonly identity?: SenderIdentity;
  /** Sending events to an SNS topic (and a function). @default off */
  readonly feedback?: EmailFeedbackOptions;
  /** Sending events as CloudWatch metrics. @default off */
  readonly metrics?: EmailMetricsOptions;
}

const DEFAULT_FEEDBACK_EVENTS = [
  ses.EmailSendingEvent.BOUNCE,
  ses.EmailSendingEvent.COMPLAINT,
  ses.EmailSendingEvent.DELIVERY,
  ses.EmailSendingEvent.REJECT,
  ses.EmailSendingEvent.DELIVERY_DELAY,
];
const DEFAULT_METRIC_EVENTS = [
  ses.EmailSendingEvent.SEND,
  ses.EmailSendingEvent.DELIVERY,
  ses.EmailSendingEvent.BOUNCE,
  ses.EmailSendingEvent.COMPLAINT,
  ses.EmailSendingEvent.REJECT,
  ses.EmailSendingEvent.OPEN,
  ses.EmailSendingEvent.CLICK,
  ses.EmailSendingEvent.RENDERING_FAILURE,
];

/**
 * A sender for SES: the verified identity, a configuration set that every message of the identity uses (reputation
 * metrics, TLS required, bounces and complaints suppressed), optional event publishing to SNS and CloudWatch, and a
 * managed policy that allows sending as the one From address only.
 */
export class EmailSender extends Construct {
  /** The configuration set: the identity's default, so every message it sends publishes its events. */
  public readonly configurationSet: ses.ConfigurationSet;
  /** The verified identity; present when `identity` is given. */
  public readonly identity?: ses.EmailIdentity;
  /** The From address the sending policy allows; present when `identity` is given. */
  public readonly fromAddress?: string;
  /** `ses:SendEmail` and `ses:SendRawEmail` as the identity, through the configuration set, From `fromAddress` only. */
  public readonly sendingPolicy?: iam.ManagedPolicy;
  /** Where the feedback events go; present when `feedback` is given. */
  public readonly feedbackTopic?: sns.ITopic;

  constructor(scope: Construct, id: string, props: EmailSenderProps = {}) {
    super(scope, id);
    validate(this, props);

    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });

    if (props.feedback) {
      const topic = new sns.Topic(this, 'FeedbackTopic', { enforceSSL: true });
      Validations.of(topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'SES publishes events through its service principal, which cannot use the AWS managed SNS key, and a customer ' +
          'managed key would add $1/month; the events carry recipient addresses and headers, no message body.',
      });
      this.configurationSet.addEventDestination('Feedback', {
        destination: ses.EventDestination.snsTopic(topic),
        events: props.feedback.events ?? DEFAULT_FEEDBACK_EVENTS,
      });
      if (props.feedback.handler) topic.addSubscription(new subscriptions.LambdaSubscription(props.feedback.handler));
      this.feedbackTopic = topic;
    }

    if (props.metrics) {
      this.configurationSet.addEventDestination('Metrics', {
        destination: ses.EventDestination.cloudWatchDimensions([
          { name: 'ses:from-domain', source: ses.CloudWatchDimensionSource.MESSAGE_TAG, defaultValue: 'unknown' },
        ]),
        events: props.metrics.events ?? DEFAULT_METRIC_EVENTS,
      });
    }

    if (props.identity) {
      this.fromAddress = props.identity.fromAddress;
      this.identity = new ses.EmailIdentity(this, 'Identity', {
        identity: props.identity.identity,
        configurationSet: this.configurationSet,
      });
      this.sendingPolicy = new iam.ManagedPolicy(this, 'SendingPolicy', {
        description: `Send mail through SES as ${props.identity.fromAddress} only`,
        statements: [this.sendingStatement()],
      });
    }
  }

  /** Adds the sending statement to `grantee`'s policy (a role or user of yours); requires `identity`. */
  grantSend(grantee: iam.IGrantable): iam.Grant {
    const statement = this.sendingStatement();
    return iam.Grant.addToPrincipal({ grantee, actions: statement.actions, resourceArns: statement.resources, conditions: statement.conditions });
  }

  private sendingStatement(): iam.PolicyStatement {
    if (!this.identity || !this.fromAddress) {
      throw new ConstructUsageError(this.node.path, 'EmailSender.NoIdentity', 'grantSend needs an identity: give EmailSender `identity`');
    }
    return new iam.PolicyStatement({
      // SendRawEmail is what the SMTP interface authorizes; SendEmail covers both the v2 API's simple and raw content.
      actions: ['ses:SendEmail', 'ses:SendRawEmail'],
      resources: [this.identity.emailIdentityArn, configurationSetArn(this, this.configurationSet)],
      conditions: { StringEquals: { 'ses:FromAddress': this.fromAddress } },
    });
  }
}

function configurationSetArn(scope: Construct, configurationSet: ses.IConfigurationSet): string {
  return Arn.format({ service: 'ses', resource: 'configuration-set', resourceName: configurationSet.configurationSetName }, Stack.of(scope));
}

function validate(scope: Construct, props: EmailSenderProps): void {
  const check = new PropsValidator(scope, 'EmailSender');
  const identity = props.identity;
  if (identity && !Token.isUnresolved(identity.fromAddress)) {
    const address = identity.fromAddress;
    check.require(
      EMAIL_ADDRESS.test(address) && address.length <= SES_LIMITS.maxEmailAddressLength,
      'FromAddressInvalid',
      `identity's fromAddress must be an email address of at most ${SES_LIMITS.maxEmailAddressLength} characters, got ${JSON.stringify(address)}`,
    );
    const domain = identity.domainName;
    if (domain !== undefined && !Token.isUnresolved(domain) && EMAIL_ADDRESS.test(address)) {
      // A verified domain covers its subdomains too: SES sends from any address of either.
      const addressDomain = address.split('@')[1].toLowerCase();
      const verified = domain.toLowerCase();
      check.require(
        addressDomain === verified || addressDomain.endsWith(`.${verified}`),
        'FromAddressOutsideDomain',
        `fromAddress ${address} is not an address of the verified domain ${domain} or one of its subdomains: SES would refuse to send as it`,
      );
    }
  }
  check.require(props.feedback?.events === undefined || props.feedback.events.length > 0, 'FeedbackEventsEmpty', 'feedback.events is empty: give at least one event, or leave it out for the defaults');
  check.require(props.metrics?.events === undefined || props.metrics.events.length > 0, 'MetricsEventsEmpty', 'metrics.events is empty: give at least one event, or leave it out for the defaults');
  check.throwIfInvalid();
}
