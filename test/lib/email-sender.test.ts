import { Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ses from 'aws-cdk-lib/aws-ses';
import { ConstructUsageError, ConstructValidationError } from '../../lib/core/validation';
import { EmailSender, SenderIdentity, SES_LIMITS } from '../../lib/email-sender';
import { testApp } from '../support/synth';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Mail', { env: { account: '111111111111', region: 'eu-west-1' } });
const zoneOf = (stack: Stack) => route53.PublicHostedZone.fromPublicHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123', zoneName: 'example.com' });

test('an address identity uses the configuration set; the policy allows sending From that address only', () => {
  const stack = newStack();
  const sender = new EmailSender(stack, 'Sender', { identity: SenderIdentity.emailAddress('orders@example.com') });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::SES::EmailIdentity', {
    EmailIdentity: 'orders@example.com',
    ConfigurationSetAttributes: { ConfigurationSetName: { Ref: Match.stringLikeRegexp('ConfigurationSet') } },
  });
  template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
    PolicyDocument: {
      Statement: [
        {
          Effect: 'Allow',
          Action: ['ses:SendEmail', 'ses:SendRawEmail'],
          Resource: [Match.anyValue(), Match.anyValue()],
          Condition: { StringEquals: { 'ses:FromAddress': 'orders@example.com' } },
        },
      ],
    },
  });
  const [policy] = Object.values(template.findResources('AWS::IAM::ManagedPolicy'));
  const arns = (policy.Properties.PolicyDocument.Statement[0].Resource as unknown[]).map((r) => JSON.stringify(r)).sort();
  expect(arns).toEqual([
    expect.stringMatching(/:ses:eu-west-1:111111111111:configuration-set\/",\{"Ref":"SenderConfigurationSet/),
    expect.stringMatching(/:ses:eu-west-1:111111111111:identity\/",\{"Ref":"SenderIdentity/),
  ]);
  expect(sender.fromAddress).toBe('orders@example.com');
  template.hasResourceProperties('AWS::IAM::ManagedPolicy', { Description: 'Send mail through SES as orders@example.com only' });
  template.hasResourceProperties('AWS::SES::ConfigurationSet', {
    ReputationOptions: { ReputationMetricsEnabled: true },
    SendingOptions: { SendingEnabled: true },
    DeliveryOptions: { TlsPolicy: 'REQUIRE' },
    SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
  });
  // Off unless asked: no topic, no destination.
  template.resourceCountIs('AWS::SNS::Topic', 0);
  template.resourceCountIs('AWS::SES::ConfigurationSetEventDestination', 0);
});

test('a domain identity writes the Easy DKIM records into the zone', () => {
  const stack = newStack();
  new EmailSender(stack, 'Sender', { identity: SenderIdentity.domain(zoneOf(stack), 'orders@example.com') });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'example.com' });
  template.resourcePropertiesCountIs('AWS::Route53::RecordSet', { Type: 'CNAME', HostedZoneId: 'Z123' }, 3);
});

test('feedback and metrics publish their default events; grantSend adds the same statement to a role', () => {
  const stack = newStack();
  const sender = new EmailSender(stack, 'Sender', { identity: SenderIdentity.emailAddress('a@example.com'), feedback: {}, metrics: {} });
  const role = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  sender.grantSend(role);
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
    EventDestination: { SnsDestination: { TopicARN: { Ref: Match.stringLikeRegexp('FeedbackTopic') } }, MatchingEventTypes: ['bounce', 'complaint', 'delivery', 'reject', 'deliveryDelay'] },
  });
  template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
    EventDestination: { CloudWatchDestination: Match.anyValue(), MatchingEventTypes: Match.arrayWith(['open', 'click']) },
  });
  template.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('App') }],
    PolicyDocument: { Statement: [Match.objectLike({ Action: ['ses:SendEmail', 'ses:SendRawEmail'], Condition: { StringEquals: { 'ses:FromAddress': 'a@example.com' } } })] },
  });
  expect(sender.feedbackTopic).toBeDefined();
});

test('feedback goes to a TLS-only topic, and to its handler; metrics of the events given, by sending domain', () => {
  const stack = newStack();
  const handler = lambda.Function.fromFunctionArn(stack, 'Feedback', 'arn:aws:lambda:eu-west-1:111111111111:function:feedback');
  const sender = new EmailSender(stack, 'Sender', { feedback: { handler }, metrics: { events: [ses.EmailSendingEvent.SEND] } });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
  });
  template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda', Endpoint: 'arn:aws:lambda:eu-west-1:111111111111:function:feedback' });
  template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
    EventDestination: {
      CloudWatchDestination: { DimensionConfigurations: [{ DimensionName: 'ses:from-domain', DimensionValueSource: 'messageTag', DefaultDimensionValue: 'unknown' }] },
      MatchingEventTypes: ['send'],
      Enabled: true,
    },
  });
  const acknowledged = sender.feedbackTopic!.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data);
  expect(acknowledged).toEqual([{ 'Annotation::AwsSolutions-SNS2': expect.stringMatching(/^SES publishes events through its service principal.*no message body\.$/) }]);
});

test('lists every props problem at once, with its code', () => {
  const stack = newStack();
  expect(
    () =>
      new EmailSender(stack, 'Sender', {
        identity: SenderIdentity.emailAddress('not an address'),
        feedback: { events: [] },
        metrics: { events: [] },
      }),
  ).toThrow(
    new ConstructValidationError('Mail/Sender', [
      { code: 'EmailSender.FromAddressInvalid', message: `identity's fromAddress must be an email address of at most ${SES_LIMITS.maxEmailAddressLength} characters, got "not an address"` },
      { code: 'EmailSender.FeedbackEventsEmpty', message: 'feedback.events is empty: give at least one event, or leave it out for the defaults' },
      { code: 'EmailSender.MetricsEventsEmpty', message: 'metrics.events is empty: give at least one event, or leave it out for the defaults' },
    ]),
  );
});

test('refuses an address with a display name around it: SES wants the bare address here', () => {
  for (const address of ['Orders <orders@example.com>', 'orders@example.com (Orders)']) {
    expect(() => new EmailSender(newStack(), 'Sender', { identity: SenderIdentity.emailAddress(address) })).toThrow(/EmailSender\.FromAddressInvalid/);
  }
});

test('refuses an address one character over the limit, accepts one at it', () => {
  const at = `${'a'.repeat(SES_LIMITS.maxEmailAddressLength - '@example.com'.length)}@example.com`;
  expect(() => new EmailSender(newStack(), 'Sender', { identity: SenderIdentity.emailAddress(at) })).not.toThrow();
  expect(() => new EmailSender(newStack(), 'Sender', { identity: SenderIdentity.emailAddress(`a${at}`) })).toThrow(/EmailSender\.FromAddressInvalid/);
});

test('refuses a From address outside the verified domain, also one that only ends like it', () => {
  for (const address of ['orders@example.org', 'orders@notexample.com']) {
    const stack = newStack();
    expect(() => new EmailSender(stack, 'Sender', { identity: SenderIdentity.domain(zoneOf(stack), address) })).toThrow(
      `[EmailSender.FromAddressOutsideDomain] fromAddress ${address} is not an address of the verified domain example.com or one of its subdomains: SES would refuse to send as it`,
    );
  }
});

test('accepts a From address of a subdomain of the verified domain: SES sends from those too', () => {
  const stack = newStack();
  const sender = new EmailSender(stack, 'Sender', { identity: SenderIdentity.domain(zoneOf(stack), 'orders@mail.example.com') });
  expect(sender.fromAddress).toBe('orders@mail.example.com');
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::ManagedPolicy', {
    PolicyDocument: { Statement: [Match.objectLike({ Condition: { StringEquals: { 'ses:FromAddress': 'orders@mail.example.com' } } })] },
  });
});

test('without an identity: a configuration set only, and grantSend is a usage error', () => {
  const stack = newStack();
  const sender = new EmailSender(stack, 'Sender', { feedback: { events: [ses.EmailSendingEvent.BOUNCE] } });
  expect(sender.sendingPolicy).toBeUndefined();
  expect(() => sender.grantSend(new iam.AccountRootPrincipal())).toThrow(
    new ConstructUsageError('Mail/Sender', 'EmailSender.NoIdentity', 'grantSend needs an identity: give EmailSender `identity`'),
  );
  Template.fromStack(stack).resourceCountIs('AWS::SES::EmailIdentity', 0);
});
