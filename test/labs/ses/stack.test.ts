import { Match, Template } from 'aws-cdk-lib/assertions';
import { sesLab } from '../../../labs/ses/lab';
import { SesLabStack } from '../../../labs/ses/stack';
import { withStack } from '../../../labs/support/app';
import { LabConfigError } from '../../../labs/support/lab-stack';
import { synthLab, testApp } from '../../support/synth';

const lab = withStack(sesLab, SesLabStack);
const SENDER = 'lab@mail.example.com';
const DOMAIN = { 'ses:email': SENDER, 'ses:domain': 'mail.example.com', 'ses:hostedZoneId': 'Z0123456789ABCDEFGHIJ' };

/** Every feature and every parameter, through cdk-nag and CloudFormation validation (synthLab throws on a finding). */
const { template: full } = synthLab(lab, { allFeatures: true, context: DOMAIN });
const build = (context: Record<string, unknown>) => () =>
  new SesLabStack(testApp(context, { builtinCloudFormationValidation: false }), { lab });
/** No parameter (what `npx cdk deploy SesLab` builds), with receiving, which needs a domain to do anything. */
const bare = Template.fromStack(build({ 'ses:receiving': true })());

test('the configuration set keeps reputation metrics, requires TLS and suppresses bounces and complaints', () => {
  bare.hasResourceProperties('AWS::SES::ConfigurationSet', {
    ReputationOptions: { ReputationMetricsEnabled: true },
    DeliveryOptions: { TlsPolicy: 'REQUIRE' },
    SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
    SendingOptions: { SendingEnabled: true },
  });
  // No dedicated IP pool and no VDM: both bill.
  full.resourceCountIs('AWS::SES::DedicatedIpPool', 0);
  full.resourceCountIs('AWS::SES::VdmAttributes', 0);
  full.hasResourceProperties('AWS::SES::ConfigurationSet', { VdmOptions: Match.absent() });
});

test('bounces, complaints and deliveries go to SNS, to the handler; opens and clicks to CloudWatch metrics', () => {
  bare.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
    EventDestination: { SnsDestination: Match.anyValue(), MatchingEventTypes: Match.arrayWith(['bounce', 'complaint', 'delivery']) },
  });
  bare.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
    EventDestination: { CloudWatchDestination: Match.anyValue(), MatchingEventTypes: Match.arrayWith(['send', 'open', 'click']) },
  });
  bare.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda', Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('FeedbackHandler'), 'Arn'] } });
  bare.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
  });
});

test('an event the handler fails on after the two retries of an asynchronous invocation goes to a queue, not away', () => {
  bare.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
    FunctionName: { Ref: Match.stringLikeRegexp('FeedbackHandler') },
    DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('RejectedFeedback'), 'Arn'] } } },
  });
  bare.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
  expect(bare.toJSON().Outputs.RejectedFeedbackQueueUrl.Value).toEqual({ Ref: expect.stringMatching(/^RejectedFeedback/) });
});

test('the handler may only put items into the suppression table', () => {
  const policies = JSON.stringify(bare.findResources('AWS::IAM::Policy'));
  expect(policies.match(/"dynamodb:[A-Za-z]+"/g)).toEqual(['"dynamodb:PutItem"']);
  bare.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('SuppressedAddresses'), 'Arn'] } }]),
    },
  });
  bare.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { SUPPRESSION_TABLE: { Ref: Match.stringLikeRegexp('SuppressedAddresses') } } } });
});

test('without ses:email there is no identity and no sending policy, and nothing bills while idle', () => {
  bare.resourceCountIs('AWS::SES::EmailIdentity', 0);
  bare.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  bare.resourceCountIs('AWS::SecretsManager::Secret', 0);
  expect(Object.keys(bare.toJSON().Outputs).filter((name) => !/Inbound|ReceiptRuleSet/.test(name)).sort()).toEqual([
    'ConfigurationSetName',
    'FeedbackFunctionName',
    'FeedbackTopicArn',
    'RejectedFeedbackQueueUrl',
    'SuppressionTableName',
  ]);
});

test('the domain identity signs with Easy DKIM, writes its three CNAMEs, and uses the configuration set', () => {
  full.hasResourceProperties('AWS::SES::EmailIdentity', {
    EmailIdentity: 'mail.example.com',
    ConfigurationSetAttributes: { ConfigurationSetName: { Ref: Match.stringLikeRegexp('ConfigurationSet') } },
  });
  full.resourcePropertiesCountIs('AWS::Route53::RecordSet', { Type: 'CNAME', HostedZoneId: 'Z0123456789ABCDEFGHIJ' }, 3);
});

test('the sending policy allows SendEmail and SendRawEmail as the identity, through the set, From the sender only', () => {
  full.hasResourceProperties('AWS::IAM::ManagedPolicy', {
    PolicyDocument: {
      Statement: [
        {
          Effect: 'Allow',
          Action: ['ses:SendEmail', 'ses:SendRawEmail'],
          Resource: [Match.objectLike({ 'Fn::Join': Match.anyValue() }), Match.objectLike({ 'Fn::Join': Match.anyValue() })],
          Condition: { StringEquals: { 'ses:FromAddress': SENDER } },
        },
      ],
    },
  });
  const [policy] = Object.values(full.findResources('AWS::IAM::ManagedPolicy')) as { Properties: { PolicyDocument: { Statement: { Resource: unknown }[] } } }[];
  const resources = JSON.stringify(policy.Properties.PolicyDocument.Statement[0].Resource);
  expect(resources).toContain(':identity/');
  expect(resources).toContain(':configuration-set/');
});

test('-c ses:smtp=true: a user with the sending policy only, its access key in a secret', () => {
  full.hasResourceProperties('AWS::IAM::User', { ManagedPolicyArns: [{ Ref: Match.stringLikeRegexp('SendingPolicy') }] });
  full.hasResourceProperties('AWS::SecretsManager::Secret', {
    SecretString: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('accessKeyId'), { Ref: Match.stringLikeRegexp('SmtpAccessKey') }])] },
  });
});

test('-c ses:smtp=true: the secret access key is in the secret only, never in an output', () => {
  const json = full.toJSON();
  expect(JSON.stringify(json.Outputs)).not.toMatch(/SecretAccessKey/);
  const readsOfTheKey: string[] = [];
  const walk = (value: unknown, where: string): void => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${where}[${i}]`));
    else if (value && typeof value === 'object') {
      const getAtt = (value as Record<string, unknown>)['Fn::GetAtt'];
      if (Array.isArray(getAtt) && String(getAtt[0]).startsWith('SmtpAccessKey') && getAtt[1] === 'SecretAccessKey') readsOfTheKey.push(where);
      for (const [key, v] of Object.entries(value)) walk(v, `${where}.${key}`);
    }
  };
  walk(json, '');
  expect(readsOfTheKey).toEqual([expect.stringMatching(/^\.Resources\.SmtpCredentials[0-9A-F]{8}\.Properties\.SecretString\./)]);
});

test('-c ses:smtp=true without ses:email: the user has no policy and its key is inactive, not a live credential for nothing', () => {
  const withoutSender = Template.fromStack(build({ 'ses:smtp': true })());
  withoutSender.hasResourceProperties('AWS::IAM::AccessKey', { Status: 'Inactive' });
  withoutSender.hasResourceProperties('AWS::IAM::User', { ManagedPolicyArns: Match.absent() });
  full.hasResourceProperties('AWS::IAM::AccessKey', { Status: 'Active' });
});

test('-c ses:receiving=true: a rule for the domain stores mail in S3 and notifies a topic; the MX record points at SES', () => {
  full.hasResourceProperties('AWS::SES::ReceiptRule', {
    Rule: {
      Enabled: true,
      Recipients: ['mail.example.com'],
      ScanEnabled: true,
      TlsPolicy: 'Require',
      Actions: [{ S3Action: { BucketName: Match.anyValue(), ObjectKeyPrefix: 'inbound/', TopicArn: { Ref: Match.stringLikeRegexp('InboundTopic') } } }],
    },
  });
  full.hasResourceProperties('AWS::S3::BucketPolicy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Principal: { Service: 'ses.amazonaws.com' }, Action: 's3:PutObject' })]) },
  });
  // CDK's allow names the account only: the deny keeps every other rule of the account out of the bucket.
  full.hasResourceProperties('AWS::S3::BucketPolicy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Effect: 'Deny',
          Principal: { Service: 'ses.amazonaws.com' },
          Action: 's3:PutObject',
          Condition: {
            ArnNotLike: {
              'AWS:SourceArn': {
                'Fn::Join': [
                  '',
                  ['arn:', { Ref: 'AWS::Partition' }, ':ses:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':receipt-rule-set/', { Ref: Match.stringLikeRegexp('InboundRules') }, ':receipt-rule/*'],
                ],
              },
            },
          },
        }),
      ]),
    },
  });
  // The exercise reads SES's notification from a queue subscribed to the topic, encrypted and TLS only.
  full.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'sqs',
    RawMessageDelivery: true,
    TopicArn: { Ref: Match.stringLikeRegexp('InboundTopic') },
    Endpoint: { 'Fn::GetAtt': [Match.stringLikeRegexp('InboundNotifications'), 'Arn'] },
  });
  full.hasResourceProperties('AWS::SQS::QueuePolicy', {
    Queues: [{ Ref: Match.stringLikeRegexp('InboundNotifications') }],
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
  });
  full.hasResourceProperties('AWS::SNS::TopicPolicy', {
    Topics: [{ Ref: Match.stringLikeRegexp('InboundTopic') }],
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Effect: 'Allow',
          Principal: { Service: 'ses.amazonaws.com' },
          Action: 'sns:Publish',
          Condition: { StringEquals: { 'AWS:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'AWS:SourceArn': Match.anyValue() } },
        }),
      ]),
    },
  });
  const [rule] = Object.values(full.findResources('AWS::SES::ReceiptRule')) as { DependsOn: string[] }[];
  expect(rule.DependsOn.some((id) => id.startsWith('InboundTopicPolicy'))).toBe(true);
  full.hasResourceProperties('AWS::Route53::RecordSet', {
    Type: 'MX',
    Name: 'mail.example.com.',
    ResourceRecords: [{ 'Fn::Join': ['', ['10 inbound-smtp.', { Ref: 'AWS::Region' }, '.amazonaws.com']] }],
  });
  expect(full.toJSON().Outputs.InboundDomain.Value).toBe('mail.example.com');
});

test('-c ses:receiving=true without a domain keeps its rule disabled: it would take mail for every verified domain', () => {
  bare.hasResourceProperties('AWS::SES::ReceiptRule', { Rule: Match.objectLike({ Enabled: false, Recipients: Match.absent() }) });
  bare.resourceCountIs('AWS::Route53::RecordSet', 0);
});

test('refuses a sender that is not an address, at synth', () => {
  expect(build({ 'ses:email': 'not-an-address' })).toThrow(new LabConfigError('context ses:email must be an email address, got "not-an-address"'));
});

test('refuses a domain without its zone, or without a sender, listing both problems', () => {
  expect(build({ 'ses:domain': 'mail.example.com' })).toThrow(
    new LabConfigError('ses:domain and ses:hostedZoneId go together: give both or neither; ses:domain needs ses:email, an address of the domain to send from'),
  );
});

test('refuses a sender outside the verified domain with the construct\'s coded error', () => {
  expect(build({ ...DOMAIN, 'ses:email': 'lab@other.example.org' })).toThrow(/\[EmailSender\.FromAddressOutsideDomain\] fromAddress lab@other\.example\.org is not an address of the verified domain mail\.example\.com or one of its subdomains/);
});
