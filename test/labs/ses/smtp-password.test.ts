import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { SMTP_PASSWORD_ALGORITHM, smtpEndpoint, smtpPassword } from '../../../labs/ses/smtp-password';

/**
 * The Python function of the SES Developer Guide ("Obtaining Amazon SES SMTP credentials", Python example:
 * calculate_key), unchanged but for reading its inputs from argv: an implementation independent of ours.
 */
const DOCUMENTED_PYTHON = `
import hmac, hashlib, base64, sys
DATE = "11111111"
SERVICE = "ses"
MESSAGE = "SendRawEmail"
TERMINAL = "aws4_request"
VERSION = 0x04
def sign(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()
def calculate_key(secret_access_key, region):
    signature = sign(("AWS4" + secret_access_key).encode("utf-8"), DATE)
    signature = sign(signature, region)
    signature = sign(signature, SERVICE)
    signature = sign(signature, TERMINAL)
    signature = sign(signature, MESSAGE)
    signature_and_version = bytes([VERSION]) + signature
    smtp_password = base64.b64encode(signature_and_version)
    return smtp_password.decode("utf-8")
for pair in sys.argv[1:]:
    secret, region = pair.rsplit(" ", 1)
    print(calculate_key(secret, region))
`;

const EXAMPLE_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

test('matches vectors computed with the documented algorithm for the docs example key', () => {
  // Computed with the Python function above (python3, 2026-12-03).
  expect(smtpPassword(EXAMPLE_SECRET, 'us-east-1')).toBe('BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9');
  expect(smtpPassword(EXAMPLE_SECRET, 'eu-west-1')).toBe('BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk');
});

test('agrees with the documented Python function on random keys in several Regions', () => {
  const cases = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2', 'sa-east-1'].map((region) => ({
    secret: randomBytes(30).toString('base64'),
    region,
  }));
  const output = execFileSync('python3', ['-c', DOCUMENTED_PYTHON, ...cases.map((c) => `${c.secret} ${c.region}`)], { encoding: 'utf8' });
  expect(output.trim().split('\n')).toEqual(cases.map((c) => smtpPassword(c.secret, c.region)));
});

test('is version byte 0x04 followed by a 32-byte HMAC-SHA256, and changes with the Region and the key', () => {
  const password = Buffer.from(smtpPassword(EXAMPLE_SECRET, 'us-east-1'), 'base64');
  expect(password).toHaveLength(33);
  expect(password[0]).toBe(SMTP_PASSWORD_ALGORITHM.version);
  expect(smtpPassword(EXAMPLE_SECRET, 'us-east-2')).not.toBe(smtpPassword(EXAMPLE_SECRET, 'us-east-1'));
  expect(smtpPassword(`${EXAMPLE_SECRET.slice(0, -1)}X`, 'us-east-1')).not.toBe(smtpPassword(EXAMPLE_SECRET, 'us-east-1'));
});

test('names the SMTP endpoint of the Region', () => {
  expect(smtpEndpoint('eu-central-1')).toBe('email-smtp.eu-central-1.amazonaws.com');
});
