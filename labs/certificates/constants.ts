/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** Figures the exercise and README rely on. */
export const CERTIFICATES_LAB = {
  /** The imported certificate's validity: inside ACM's default 45-day expiry event window and under the alarm's threshold. */
  importedValidity: LabDuration.days(20),
  /** The offline CA that signs the imported certificate lives a little longer than what it signs. */
  offlineCaValidity: LabDuration.days(30),
  /** The DaysToExpiry alarm the exercise creates fires below this many days. */
  expiryAlarmThresholdDays: 30,
  /** ACM's default: expiry events start this many days before a certificate expires (PutAccountConfiguration, 1–45). */
  defaultDaysBeforeExpiry: 45,
  /** EventBridge detail-type of ACM's daily expiry event. */
  expiryEventDetailType: 'ACM Certificate Approaching Expiration',
  /** Domain names the offline tooling and the private CA use: nothing resolves them, nothing public trusts them. */
  importedDomainName: 'imported.certificates-lab.internal',
  /** The private certificate is for `service.<stack name>.internal`: a name per stack, as CloudFormation names need. */
  privateHostName: 'service',
  /** Subject common names of the two CAs. */
  offlineCaName: 'Certificates lab offline root CA',
  privateCaName: 'Certificates lab private root CA',
  /** The private CA's certificate: over the 395 days of the certificates ACM requests from it. */
  privateCaValidity: LabDuration.days(730),
  /**
   * Key of the tag every certificate the exercise imports carries, with the stack's name as value: the clean-up step
   * finds the certificates of its own stack, not those of another deployment of the lab in the account.
   */
  importTagKey: 'certificates-lab-stack',
  /** The DaysToExpiry alarm the exercise creates and deletes is `<stack name><this>`: one per deployment of the lab. */
  expiryAlarmSuffix: '-imported-days-to-expiry',
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** Pause between two reads of the private certificate's RenewalEligibility after its export. */
    renewalEligibilityPollSeconds: 2,
    /** How long the private-ca step waits for ACM to report the exported certificate ELIGIBLE before failing. */
    renewalEligibilityDeadlineSeconds: 60,
  },
  /** Tag the private-ca step puts on the private certificate after its first export, so later runs expect ELIGIBLE. */
  exportedTag: { Key: 'certificates-lab-exported', Value: 'true' },
} as const;
