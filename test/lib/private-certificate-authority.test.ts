import { Aws, Duration, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CaUsageMode, PRIVATE_CA_LIMITS, PrivateCertificateAuthority } from '../../lib/private-certificate-authority';
import { testApp } from '../support/synth';
import { problemMessagesOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
const problemsOf = (build: (stack: Stack) => void) => problemMessagesOf(() => build(newStack()));

describe('PrivateCertificateAuthority', () => {
  const stack = newStack();
  const ca = new PrivateCertificateAuthority(stack, 'Ca', { commonName: 'Example root', organization: 'Example', validity: Duration.days(730) });
  const certificate = ca.privateCertificate('Service', { domainName: 'orders.internal.example.com', subjectAlternativeNames: ['*.orders.internal.example.com'] });
  const template = Template.fromStack(stack);
  const caRef = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Ca'), 'Arn'] };

  test('a general-purpose root CA with an ECDSA P-256 key, and revocation visibly off', () => {
    template.hasResourceProperties('AWS::ACMPCA::CertificateAuthority', {
      Type: 'ROOT',
      KeyAlgorithm: 'EC_prime256v1',
      SigningAlgorithm: 'SHA256WITHECDSA',
      Subject: { CommonName: 'Example root', Organization: 'Example' },
      UsageMode: 'GENERAL_PURPOSE',
      RevocationConfiguration: { CrlConfiguration: { Enabled: false }, OcspConfiguration: { Enabled: false } },
    });
    expect(ca.usageMode).toBe(CaUsageMode.GENERAL_PURPOSE);
  });

  test('its own CSR signed with the root CA template for the validity asked, then installed and activated', () => {
    template.hasResourceProperties('AWS::ACMPCA::Certificate', {
      CertificateAuthorityArn: caRef,
      CertificateSigningRequest: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Ca'), 'CertificateSigningRequest'] },
      SigningAlgorithm: 'SHA256WITHECDSA',
      TemplateArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':acm-pca:::template/RootCACertificate/V1']] },
      Validity: { Type: 'DAYS', Value: 730 },
    });
    template.hasResourceProperties('AWS::ACMPCA::CertificateAuthorityActivation', {
      CertificateAuthorityArn: caRef,
      Certificate: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CaCertificate'), 'Certificate'] },
      Status: 'ACTIVE',
    });
    expect(stack.resolve(ca.caCertificatePem)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CaCertificate/), 'Certificate'] });
  });

  test('ACM may issue, get and list permissions, for certificates of the stack\'s account only, so it can renew what it requested', () => {
    template.hasResourceProperties('AWS::ACMPCA::Permission', {
      CertificateAuthorityArn: caRef,
      Principal: 'acm.amazonaws.com',
      Actions: ['IssueCertificate', 'GetCertificate', 'ListPermissions'],
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
    const pinned = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Pinned', { env: { account: '111122223333', region: 'eu-west-1' } });
    new PrivateCertificateAuthority(pinned, 'Ca', { commonName: 'Pinned root' });
    Template.fromStack(pinned).hasResourceProperties('AWS::ACMPCA::Permission', { SourceAccount: '111122223333' });
  });

  test('a private certificate requested from the CA once it is active, with a key of the CA\'s family', () => {
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'orders.internal.example.com',
      SubjectAlternativeNames: ['*.orders.internal.example.com'],
      // Ref of a CA is its ARN too.
      CertificateAuthorityArn: { Ref: Match.stringLikeRegexp('^Ca') },
      KeyAlgorithm: 'EC_prime256v1',
    });
    const [resource] = Object.values(template.findResources('AWS::CertificateManager::Certificate'));
    expect(resource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^CaActivation/), expect.stringMatching(/^CaAcmPermission/)]));
    expect(certificate.certificateArn).toBeDefined();
  });

  test('a short-lived certificate mode CA: the mode is set, and ACM refuses to request from it', () => {
    const messages = problemsOf((s) => {
      const shortLived = new PrivateCertificateAuthority(s, 'Short', { commonName: 'Short', usageMode: CaUsageMode.SHORT_LIVED_CERTIFICATE });
      Template.fromStack(s).hasResourceProperties('AWS::ACMPCA::CertificateAuthority', { UsageMode: 'SHORT_LIVED_CERTIFICATE' });
      shortLived.privateCertificate('Cert', { domainName: 'a.example.com' });
    });
    expect(messages).toEqual([
      'PrivateCertificateAuthority.AcmNeedsGeneralPurpose: ACM cannot request certificates from a CA in short-lived certificate mode: issue them with IssueCertificate instead',
    ]);
  });

  test('the default validity is 10 years', () => {
    const s = newStack();
    expect(new PrivateCertificateAuthority(s, 'Ca', { commonName: 'Root' }).validityDays).toBe(3650);
  });
});

describe('PrivateCertificateAuthority validation', () => {
  test('a common name too long and a validity not in whole days are reported together', () => {
    expect(problemsOf((s) => new PrivateCertificateAuthority(s, 'Ca', { commonName: 'x'.repeat(65), validity: Duration.hours(36) }))).toEqual([
      'PrivateCertificateAuthority.CommonNameLength: commonName must have 1–64 characters, got 65',
      'PrivateCertificateAuthority.ValidityNotWholeDays: validity must be a positive whole number of days, got 1.5 days',
    ]);
    expect(problemsOf((s) => new PrivateCertificateAuthority(s, 'Ca', { commonName: '' }))).toEqual([
      'PrivateCertificateAuthority.CommonNameLength: commonName must have 1–64 characters, got 0',
    ]);
    const notWholeSeconds = problemsOf((s) => new PrivateCertificateAuthority(s, 'Ca', { commonName: 'x'.repeat(64), validity: Duration.millis(1500) }));
    expect(notWholeSeconds.map((m) => m.split(':')[0])).toEqual([
      'PrivateCertificateAuthority.NotWholeSeconds',
      'PrivateCertificateAuthority.ValidityNotWholeDays',
    ]);
    expect(notWholeSeconds[0]).toBe('PrivateCertificateAuthority.NotWholeSeconds: validity must be a whole number of seconds, got 1.5 s');
    expect(problemsOf((s) => new PrivateCertificateAuthority(s, 'Ca', { commonName: 'Root', validity: Duration.days(0) }))).toEqual([
      'PrivateCertificateAuthority.ValidityNotWholeDays: validity must be a positive whole number of days, got 0 days',
    ]);
  });

  test('a validity that is a token, in any unit, is one problem that says why, not a conversion hint or "0 days"', () => {
    const token = Token.asNumber({ Ref: 'CaValidity' });
    for (const validity of [Duration.seconds(token), Duration.days(token)]) {
      expect(problemsOf((s) => new PrivateCertificateAuthority(s, 'Ca', { commonName: 'Root', validity }))).toEqual([
        `PrivateCertificateAuthority.ValidityIsToken: validity must be known at synth (the CA certificate takes whole days), got a token in ${validity.unitLabel()}`,
      ]);
    }
  });

  test('a certificate that would outlive the CA and names that are not DNS names are reported together', () => {
    const days = PRIVATE_CA_LIMITS.acmPrivateCertificateValidityDays;
    const messages = problemsOf((s) =>
      new PrivateCertificateAuthority(s, 'Ca', { commonName: 'Root', validity: Duration.days(days) }).privateCertificate('Cert', {
        domainName: 'not a name',
        subjectAlternativeNames: ['ok.example.com', '-leading.example.com', 'single', `${'a'.repeat(64)}.example.com`],
      }),
    );
    expect(messages.map((m) => m.split(':')[0])).toEqual([
      'PrivateCertificateAuthority.NotADomainName',
      'PrivateCertificateAuthority.NotADomainName',
      'PrivateCertificateAuthority.NotADomainName',
      'PrivateCertificateAuthority.NotADomainName',
      'PrivateCertificateAuthority.CertificateOutlivesCa',
    ]);
    expect(messages[0]).toBe(
      'PrivateCertificateAuthority.NotADomainName: "not a name" is not a DNS name (labels of letters, digits and hyphens, at least two; "*." first for a wildcard)',
    );
    expect(messages[4]).toBe(
      "PrivateCertificateAuthority.CertificateOutlivesCa: ACM issues private certificates for 395 days, longer than the CA certificate's 395: give the CA a validity over 395 days",
    );
  });

  test('one day more than an ACM private certificate is enough, and a name with a token is left to ACM', () => {
    expect(
      problemsOf((s) =>
        new PrivateCertificateAuthority(s, 'Ca', { commonName: 'Root', validity: Duration.days(PRIVATE_CA_LIMITS.acmPrivateCertificateValidityDays + 1) })
          .privateCertificate('Cert', { domainName: `service.${Aws.STACK_NAME}.internal`, subjectAlternativeNames: ['*.example.com'] }),
      ),
    ).toEqual([]);
  });

  test('a one-character common name and a 253-character domain name are the edges accepted; 254 characters are refused', () => {
    const nameOf = (lastLabelLength: number) => [...Array(3).fill('a'.repeat(63)), 'a'.repeat(lastLabelLength)].join('.');
    expect([nameOf(61).length, nameOf(62).length]).toEqual([253, 254]);
    expect(
      problemsOf((s) => new PrivateCertificateAuthority(s, 'Ca', { commonName: 'R' }).privateCertificate('Cert', { domainName: nameOf(61), subjectAlternativeNames: [nameOf(62)] })),
    ).toEqual([expect.stringMatching(/^PrivateCertificateAuthority\.NotADomainName: "a{63}\.a{63}\.a{63}\.a{62}" is not a DNS name/)]);
  });
});
