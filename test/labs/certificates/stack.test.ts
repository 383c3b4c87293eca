import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { certificatesLab } from '../../../labs/certificates/lab';
import { CertificatesLabStack } from '../../../labs/certificates/stack';
import { CERTIFICATES_LAB } from '../../../labs/certificates/constants';
import { withStack } from '../../../labs/support/app';
import { LabConfigError } from '../../../labs/support/lab-stack';
import { synthLab } from '../../support/synth';

const lab = withStack(certificatesLab, CertificatesLabStack);
const DOMAIN = { 'certificates:domain': 'api.example.com', 'certificates:hosted-zone-id': 'Z0123456789ABCDEFGHIJ' };
// Everything on, cdk-nag and CloudFormation validation included: the catalogue checks synthesize without a domain.
const { stack, template } = synthLab(lab, { context: { ...DOMAIN, 'certificates:pca': true } });

test('ACM\'s daily expiry event, and only it, reaches the expiry topic', () => {
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: { source: ['aws.acm'], 'detail-type': [CERTIFICATES_LAB.expiryEventDetailType] },
    Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^ExpiryTopic') } })],
  });
  template.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish' })]) },
  });
});

test('with a domain and its zone: a public certificate validated by DNS in that zone', () => {
  template.hasResourceProperties('AWS::CertificateManager::Certificate', {
    DomainName: 'api.example.com',
    ValidationMethod: 'DNS',
    DomainValidationOptions: [{ DomainName: 'api.example.com', HostedZoneId: 'Z0123456789ABCDEFGHIJ' }],
  });
});

test('served by a regional TLS 1.2 custom domain of an HTTP API whose execute-api endpoint is off, aliased in the zone', () => {
  template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
    DomainName: 'api.example.com',
    DomainNameConfigurations: [Match.objectLike({ CertificateArn: { Ref: Match.stringLikeRegexp('^PublicCertificate') }, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' })],
  });
  template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP', DisableExecuteApiEndpoint: true });
  template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: '$default', AutoDeploy: true, AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }) });
  template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { DomainName: { Ref: Match.stringLikeRegexp('^CustomDomain') }, Stage: '$default' });
  template.hasResourceProperties('AWS::Route53::RecordSet', {
    HostedZoneId: 'Z0123456789ABCDEFGHIJ',
    Name: 'api.example.com.',
    Type: 'A',
    AliasTarget: {
      DNSName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CustomDomain'), 'RegionalDomainName'] },
      HostedZoneId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CustomDomain'), 'RegionalHostedZoneId'] },
    },
  });
});

test('with pca: a root CA of the lab, and a private certificate for service.<stack name>.internal', () => {
  template.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', {
    Type: 'ROOT',
    UsageMode: 'GENERAL_PURPOSE',
    Subject: Match.objectLike({ CommonName: CERTIFICATES_LAB.privateCaName }),
  });
  template.hasResourceProperties('AWS::ACMPCA::Certificate', { Validity: { Type: 'DAYS', Value: CERTIFICATES_LAB.privateCaValidity.toDays() } });
  template.hasResourceProperties('AWS::CertificateManager::Certificate', {
    DomainName: { 'Fn::Join': ['', ['service.', { Ref: 'AWS::StackName' }, '.internal']] },
    CertificateAuthorityArn: Match.anyValue(),
  });
});

test('with pca, every synth and deploy prints what the CA costs', () => {
  expect(Annotations.fromStack(stack).findInfo('/CertificatesLab/PrivateCa', Match.stringLikeRegexp('^AWS Private CA bills \\$400/month'))).toHaveLength(1);
});

test('outputs what the exercise reads', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'CustomDomainUrl',
    'ExpiryRuleName',
    'ExpiryTopicArn',
    'PrivateCaArn',
    'PrivateCaCertificatePem',
    'PrivateCertificateArn',
    'PrivateCertificateDomain',
    'PublicCertificateArn',
    'StackName',
  ]);
  template.hasOutput('CustomDomainUrl', { Value: 'https://api.example.com/' });
  // The exercise names its alarm and tags its certificate after the deployed stack's name.
  template.hasOutput('StackName', { Value: { Ref: 'AWS::StackName' } });
});

test('a domain without its zone, or a zone without a domain, is refused', () => {
  const message = 'a public certificate needs both -c certificates:domain=<name> and -c certificates:hosted-zone-id=<id> (the zone that holds the name), or neither';
  expect(() => synthLab(lab, { context: { 'certificates:domain': 'api.example.com' } })).toThrow(new LabConfigError(message));
  expect(() => synthLab(lab, { context: { 'certificates:hosted-zone-id': 'Z0123' } })).toThrow(message);
});

test('a domain that is not a DNS name and a zone id that is not one are refused at synth', () => {
  expect(() => synthLab(lab, { context: { ...DOMAIN, 'certificates:domain': 'not a domain' } })).toThrow(
    'context certificates:domain must be a lower-case DNS name such as api.example.com, got "not a domain"',
  );
  // A single label, a wildcard (the exercise calls the name), upper case, and a name over 253 characters.
  for (const notAHostName of ['localhost', '*.example.com', 'API.example.com', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}.com`]) {
    expect(() => synthLab(lab, { context: { ...DOMAIN, 'certificates:domain': notAHostName } })).toThrow('context certificates:domain must be');
  }
  expect(() => synthLab(lab, { context: { ...DOMAIN, 'certificates:hosted-zone-id': 'example.com' } })).toThrow(
    'context certificates:hosted-zone-id must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ, got "example.com"',
  );
});
