import { Aws, Duration, Stack, Token } from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';
import { PRIVATE_CA_LIMITS } from './limits';

export { PRIVATE_CA_LIMITS } from './limits';

/** How long the certificates a CA issues may live, which sets its monthly price. */
export enum CaUsageMode {
  /** Any validity; $400 per CA-month (us-east-1). The only mode ACM can request private certificates from. */
  GENERAL_PURPOSE = 'GENERAL_PURPOSE',
  /** Certificates valid 7 days at most, issued with `IssueCertificate`; $50 per CA-month (us-east-1). */
  SHORT_LIVED_CERTIFICATE = 'SHORT_LIVED_CERTIFICATE',
}

/** The key and signature algorithms of the CA: ECDSA P-256 with SHA-256, which ACM private certificates can match. */
const CA_KEY_ALGORITHM = 'EC_prime256v1';
const CA_SIGNING_ALGORITHM = 'SHA256WITHECDSA';

export interface PrivateCertificateAuthorityProps {
  /** Common name of the CA's subject, 1–64 characters: what clients show as the issuer. */
  readonly commonName: string;
  /** Organization (O) of the CA's subject. @default - none */
  readonly organization?: string;
  /** How long the CA's self-signed certificate is valid, in whole days. @default Duration.days(3650) */
  readonly validity?: Duration;
  /** General-purpose or short-lived certificate mode. @default CaUsageMode.GENERAL_PURPOSE */
  readonly usageMode?: CaUsageMode;
}

/** A private certificate ACM requests from the CA. */
export interface PrivateCertificateOptions {
  /** The DNS name the certificate is for; `*.` first for a wildcard. */
  readonly domainName: string;
  /** More DNS names the certificate covers. @default - none */
  readonly subjectAlternativeNames?: string[];
}

/**
 * A root certificate authority of AWS Private CA, ready to issue: the CA (ECDSA P-256), its self-signed certificate
 * issued from its own signing request with the root CA template, and the activation that installs it. ACM may issue,
 * get and list permissions on it for certificates of this account, so ACM can renew the private certificates it
 * requested from it: it renews one when it may issue from the CA and the certificate has been exported or is in use
 * by an integrated service. No CRL and no OCSP: see the README for why and how to turn one on.
 */
export class PrivateCertificateAuthority extends Construct {
  /** The CA: its ARN (`attrArn`) is what `IssueCertificate` and ACM's `RequestCertificate` take. */
  public readonly certificateAuthority: acmpca.CfnCertificateAuthority;
  /** The CA's self-signed certificate. */
  public readonly caCertificate: acmpca.CfnCertificate;
  /** Installs the certificate and makes the CA ACTIVE; deleting it disables the CA. */
  public readonly activation: acmpca.CfnCertificateAuthorityActivation;
  /** Lets ACM issue and renew private certificates from this CA, for certificates of this stack's account only. */
  public readonly acmPermission: acmpca.CfnPermission;
  /** The CA certificate, PEM, known at deploy time: the trust anchor clients install. */
  public readonly caCertificatePem: string;
  /** Validity of the CA certificate in days. */
  public readonly validityDays: number;
  public readonly usageMode: CaUsageMode;

  constructor(scope: Construct, id: string, props: PrivateCertificateAuthorityProps) {
    super(scope, id);
    const check = new PropsValidator(this, 'PrivateCertificateAuthority');
    check.require(
      props.commonName.length >= 1 && props.commonName.length <= PRIVATE_CA_LIMITS.maxCommonNameLength,
      'CommonNameLength',
      `commonName must have 1–${PRIVATE_CA_LIMITS.maxCommonNameLength} characters, got ${props.commonName.length}`,
    );
    const validity = props.validity ?? Duration.days(3650);
    // The CA certificate's validity renders in days, which no token in any unit converts to at synth, and ACM's
    // 395 days are checked against it: one problem that says so, rather than a conversion hint that cannot work.
    check.require(
      !validity.isUnresolved(),
      'ValidityIsToken',
      `validity must be known at synth (the CA certificate takes whole days), got a token in ${validity.unitLabel()}`,
    );
    const seconds = validity.isUnresolved() ? undefined : check.seconds(validity, 'validity');
    if (seconds !== undefined) {
      check.require(
        seconds > 0 && seconds % 86400 === 0,
        'ValidityNotWholeDays',
        `validity must be a positive whole number of days, got ${seconds / 86400} days`,
      );
    }
    check.throwIfInvalid();
    this.validityDays = (seconds ?? 0) / 86400;
    this.usageMode = props.usageMode ?? CaUsageMode.GENERAL_PURPOSE;

    this.certificateAuthority = new acmpca.CfnCertificateAuthority(this, 'Resource', {
      type: 'ROOT',
      keyAlgorithm: CA_KEY_ALGORITHM,
      signingAlgorithm: CA_SIGNING_ALGORITHM,
      subject: { commonName: props.commonName, organization: props.organization },
      usageMode: this.usageMode,
      // Revocation off, said out loud: a CRL needs a bucket AWS Private CA writes to; OCSP bills per response.
      revocationConfiguration: { crlConfiguration: { enabled: false }, ocspConfiguration: { enabled: false } },
    });
    this.caCertificate = new acmpca.CfnCertificate(this, 'Certificate', {
      certificateAuthorityArn: this.certificateAuthority.attrArn,
      certificateSigningRequest: this.certificateAuthority.attrCertificateSigningRequest,
      signingAlgorithm: CA_SIGNING_ALGORITHM,
      templateArn: `arn:${Aws.PARTITION}:acm-pca:::template/RootCACertificate/V1`,
      validity: { type: 'DAYS', value: this.validityDays },
    });
    this.activation = new acmpca.CfnCertificateAuthorityActivation(this, 'Activation', {
      certificateAuthorityArn: this.certificateAuthority.attrArn,
      certificate: this.caCertificate.attrCertificate,
      status: 'ACTIVE',
    });
    this.acmPermission = new acmpca.CfnPermission(this, 'AcmPermission', {
      certificateAuthorityArn: this.certificateAuthority.attrArn,
      principal: 'acm.amazonaws.com',
      actions: ['IssueCertificate', 'GetCertificate', 'ListPermissions'],
      // ACM acts on the CA only for certificates of the CA's own account: the confused-deputy guard.
      sourceAccount: Stack.of(this).account,
    });
    this.caCertificatePem = this.caCertificate.attrCertificate;
  }

  /**
   * A private certificate ACM requests from this CA once it is active: valid 395 days, exportable with its private
   * key (`ExportCertificate`), ECDSA P-256 like the CA. ACM renews it from 60 days before expiry once it has been
   * exported or is in use by an integrated service; until then it is not eligible for renewal.
   */
  privateCertificate(id: string, options: PrivateCertificateOptions): acm.PrivateCertificate {
    const check = new PropsValidator(this, 'PrivateCertificateAuthority');
    // A name with a token in it (the stack name) is known at deploy time only: ACM checks it then.
    for (const name of [options.domainName, ...(options.subjectAlternativeNames ?? [])].filter((n) => !Token.isUnresolved(n))) {
      check.require(
        name.length <= PRIVATE_CA_LIMITS.maxDomainNameLength && PRIVATE_CA_LIMITS.domainNamePattern.test(name),
        'NotADomainName',
        `${JSON.stringify(name)} is not a DNS name (labels of letters, digits and hyphens, at least two; "*." first for a wildcard)`,
      );
    }
    check.require(
      this.usageMode === CaUsageMode.GENERAL_PURPOSE,
      'AcmNeedsGeneralPurpose',
      'ACM cannot request certificates from a CA in short-lived certificate mode: issue them with IssueCertificate instead',
    );
    check.require(
      this.validityDays > PRIVATE_CA_LIMITS.acmPrivateCertificateValidityDays,
      'CertificateOutlivesCa',
      `ACM issues private certificates for ${PRIVATE_CA_LIMITS.acmPrivateCertificateValidityDays} days, longer than ` +
        `the CA certificate's ${this.validityDays}: give the CA a validity over ${PRIVATE_CA_LIMITS.acmPrivateCertificateValidityDays} days`,
    );
    check.throwIfInvalid();
    const certificate = new acm.PrivateCertificate(this, id, {
      domainName: options.domainName,
      subjectAlternativeNames: options.subjectAlternativeNames,
      certificateAuthority: this.certificateAuthority,
      keyAlgorithm: acm.KeyAlgorithm.EC_PRIME256V1,
    });
    certificate.node.addDependency(this.activation, this.acmPermission);
    return certificate;
  }
}
