/**
 * SMTP credentials for SES from an IAM user's access key, by the algorithm the SES Developer Guide documents
 * ("Obtaining Amazon SES SMTP credentials by converting existing AWS credentials"): the user name is the access key
 * id; the password is a SigV4 signing key for the Region, signed over "SendRawEmail", prefixed with version byte 0x04.
 * It depends on the Region: a password derived for us-east-1 does not log in to eu-west-1's endpoint.
 */
import { createHmac } from 'node:crypto';

/** Fixed inputs of the documented algorithm: never change them. */
export const SMTP_PASSWORD_ALGORITHM = {
  date: '11111111',
  service: 'ses',
  terminal: 'aws4_request',
  message: 'SendRawEmail',
  version: 0x04,
} as const;

const sign = (key: Buffer, message: string) => createHmac('sha256', key).update(message, 'utf8').digest();

export function smtpPassword(secretAccessKey: string, region: string): string {
  const { date, service, terminal, message, version } = SMTP_PASSWORD_ALGORITHM;
  let signature = sign(Buffer.from(`AWS4${secretAccessKey}`, 'utf8'), date);
  for (const part of [region, service, terminal, message]) signature = sign(signature, part);
  return Buffer.concat([Buffer.from([version]), signature]).toString('base64');
}

/** The SMTP endpoint of a Region (STARTTLS on 587, or TLS wrapper on 465). */
export const smtpEndpoint = (region: string) => `email-smtp.${region}.amazonaws.com`;
