import { EMAIL_ADDRESS } from '../../lib/email-sender/address';
import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The ses lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const sesLab = defineLab({
  id: 'ses',
  title: 'SES: a verified sender, a configuration set with bounce and complaint handling, SMTP credentials, receiving',
  stackName: 'SesLab',
  seedTopics: ['000: AWS SES', '002: SNS (SES)'],
  idleCostUsdPerMonth: 0,
  features: {
    smtp: {
      description: 'an IAM user allowed to send as the sender only, its access key kept in a Secrets Manager secret (SMTP credentials)',
      idleCostUsdPerMonth: 0.4,
    },
    receiving: {
      description: 'a receipt rule set that stores mail for the domain in S3 and notifies an SNS topic (needs ses:domain and ses:hostedZoneId)',
      idleCostUsdPerMonth: 0,
    },
  },
  parameters: {
    email: {
      description: 'the sender address SES verifies (it mails you a link) and the sending policy allows as From',
      pattern: EMAIL_ADDRESS,
      expected: 'an email address',
    },
    domain: {
      description: 'a domain whose public hosted zone you own: verified with Easy DKIM instead of the address alone',
      pattern: /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
      expected: 'a lower-case domain name',
    },
    hostedZoneId: {
      description: 'the id of the public hosted zone of ses:domain, where the DKIM (and MX) records are written',
      pattern: /^Z[A-Z0-9]{1,31}$/,
      expected: 'a Route 53 hosted zone id (Z...)',
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).SesLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
