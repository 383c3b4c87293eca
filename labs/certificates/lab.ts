import { PRIVATE_CA_LIMITS } from '../../lib/private-certificate-authority/limits';
import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/**
 * The API's custom domain: a DNS name as ACM takes it (PRIVATE_CA_LIMITS.domainNamePattern) of at most 253 characters,
 * in lower case (the pattern without its `i` flag) and without a wildcard, since the exercise calls the name.
 */
const CUSTOM_DOMAIN_NAME = new RegExp(
  `^(?=.{1,${PRIVATE_CA_LIMITS.maxDomainNameLength}}$)(?!\\*)${PRIVATE_CA_LIMITS.domainNamePattern.source.replace(/^\^/, '')}`,
);

/** The certificates lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const certificatesLab = defineLab({
  id: 'certificates',
  title: 'ACM and AWS Private CA: a DNS-validated public certificate on a custom domain, an imported certificate watched for expiry, a private root CA',
  stackName: 'CertificatesLab',
  seedTopics: ['000: AWS certificate manager (ACM)', '000: AWS Private certification Authority (CA)'],
  // Public and imported ACM certificates are free; the EventBridge rule, the SNS topic, the HTTP API and its function
  // bill per use. The DaysToExpiry alarm ($0.10/month) exists only while the exercise's imported certificate does.
  idleCostUsdPerMonth: 0,
  features: {
    pca: {
      description:
        '!!! BILLED MONTHLY: $400/month ($0.55/hour), prorated, from creation until the CA is deleted !!! ' +
        'a root CA of AWS Private CA in general-purpose mode (a short-lived certificate mode CA is $50/month but ACM ' +
        'cannot issue from it), activated with its self-signed certificate, and a private certificate ACM requests ' +
        'from it (a one-time per-certificate fee on its first export). The first CA of an account and Region has a 30-day free trial. ' +
        'Destroy the lab the same day',
      // $400 per general-purpose CA-month, prorated (aws.amazon.com/private-ca/pricing, checked 2026-12).
      idleCostUsdPerMonth: 400,
    },
  },
  parameters: {
    domain: {
      description:
        'a DNS name in a Route 53 public hosted zone of this account (api.example.com) for a public certificate validated by DNS and an API custom domain',
      pattern: CUSTOM_DOMAIN_NAME,
      expected: 'a lower-case DNS name such as api.example.com',
    },
    'hosted-zone-id': {
      description: 'id of the public hosted zone that holds the domain (Z0123456789ABCDEFGHIJ), with -c certificates:domain',
      pattern: /^Z[A-Z0-9]{1,31}$/,
      expected: 'a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ',
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).CertificatesLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
