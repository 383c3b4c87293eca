import { homedir } from 'node:os';
import * as path from 'node:path';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';

/**
 * The SDK for JavaScript v3's default credential provider chain, in order (@aws-sdk/credential-provider-node), and
 * what this machine offers for each link. The first link that yields credentials wins; the AWS CLI's order is the
 * same after its command-line options (--profile).
 */
export interface ChainLink {
  readonly name: string;
  readonly source: string;
  /** Whether this link has what it needs here (it may still fail, e.g. an expired SSO token). */
  readonly configured: boolean;
  readonly detail: string;
}

/**
 * What each link of the chain would find, without calling AWS. The files are read by the SDK's own loader
 * (@smithy/shared-ini-file-loader), so `[profile x]` and `[sso-session x]` sections are understood as the SDK
 * understands them; `env` and `home` say where they are (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, ~/.aws).
 */
export async function describeCredentialChain(env: Record<string, string | undefined> = process.env, home = homedir()): Promise<ChainLink[]> {
  const profile = env.AWS_PROFILE ?? 'default';
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, '.aws', 'credentials');
  const configFile = env.AWS_CONFIG_FILE ?? path.join(home, '.aws', 'config');
  // Missing files load as empty; ignoreCache so that each call sees the files as they are now.
  const files = await loadSharedConfigFiles({ filepath: credentialsFile, configFilepath: configFile, ignoreCache: true });
  const credentials: Record<string, string | undefined> = files.credentialsFile[profile] ?? {};
  const config: Record<string, string | undefined> = files.configFile[profile] ?? {};
  const envKeys = Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
  const sso = Boolean(config.sso_session || config.sso_start_url);
  const staticKeys = Boolean(credentials.aws_access_key_id || config.aws_access_key_id);
  const assumeRole = Boolean(config.role_arn && (config.source_profile || config.credential_source));
  const containerUri = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ?? env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  return [
    {
      name: 'environment',
      source: 'AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)',
      configured: envKeys && !env.AWS_PROFILE,
      detail: envKeys
        ? env.AWS_PROFILE ? 'set, but skipped because AWS_PROFILE is set' : `access key ${env.AWS_ACCESS_KEY_ID?.slice(0, 4)}…${env.AWS_SESSION_TOKEN ? ' with a session token' : ''}`
        : 'not set',
    },
    {
      name: 'sso',
      source: `IAM Identity Center profile in ${configFile} (aws sso login)`,
      configured: sso,
      detail: sso ? `profile "${profile}" uses ${config.sso_session ? `sso-session ${config.sso_session}` : 'a legacy sso_start_url'}` : `profile "${profile}" has no sso settings`,
    },
    {
      name: 'ini',
      source: `static keys in ${credentialsFile}, or role_arn + source_profile in ${configFile}`,
      configured: staticKeys || assumeRole,
      detail: staticKeys ? `profile "${profile}" has static keys` : assumeRole ? `profile "${profile}" assumes ${config.role_arn}` : `no keys for profile "${profile}"`,
    },
    {
      name: 'process',
      source: `credential_process in ${configFile}`,
      configured: Boolean(config.credential_process),
      detail: config.credential_process ? `runs: ${config.credential_process}` : 'none',
    },
    {
      name: 'web-identity',
      source: 'AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (EKS pods, CI with OIDC)',
      configured: Boolean(env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN),
      detail: env.AWS_ROLE_ARN ? `role ${env.AWS_ROLE_ARN}` : 'not set',
    },
    {
      name: 'container',
      source: 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI (ECS tasks, EKS Pod Identity)',
      configured: Boolean(containerUri),
      detail: containerUri ? `endpoint ${containerUri}` : 'not set',
    },
    {
      name: 'instance-metadata',
      source: 'EC2 instance profile through IMDSv2 (169.254.169.254)',
      configured: env.AWS_EC2_METADATA_DISABLED !== 'true',
      detail: env.AWS_EC2_METADATA_DISABLED === 'true' ? 'disabled by AWS_EC2_METADATA_DISABLED' : 'tried last; answers only on EC2',
    },
  ];
}

/**
 * Where credentials the default chain (`fromNodeProviderChain`) resolved came from, named like the chain's links. The
 * SDK tags them with their source (`$source`), except its last link's container and instance metadata providers
 * (@smithy/credential-provider-imds): untagged credentials came from that link, which reads the container endpoint
 * when AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI is set, and EC2 instance metadata otherwise.
 */
export function credentialSourceName(credentials: object, env: Record<string, string | undefined> = process.env): string {
  const features = Object.keys((credentials as { $source?: Record<string, string> }).$source ?? {});
  const known: [RegExp, string][] = [
    [/STS_WEB_ID_TOKEN|WEB_ID/, 'web-identity'],
    [/ENV_VARS/, 'environment'],
    [/SSO/, 'sso'],
    [/PROCESS/, 'process'],
    [/HTTP/, 'container'],
    [/IMDS/, 'instance-metadata'],
    [/PROFILE/, 'ini'],
  ];
  for (const [pattern, name] of known) if (features.some((f) => pattern.test(f))) return name;
  if (features.length > 0) return features.join('+');
  return env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI ? 'container' : 'instance-metadata';
}

export class MfaInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MfaInputError';
  }
}

/** SerialNumber and TokenCode for GetSessionToken / AssumeRole, refused with a reason when malformed. */
export function mfaParameters(serialNumber: string | undefined, tokenCode: string | undefined): { SerialNumber: string; TokenCode: string } {
  if (!serialNumber) throw new MfaInputError('missing MFA device: set LAB_MFA_SERIAL to the ARN of your MFA device (arn:aws:iam::<account>:mfa/<name>)');
  const isDeviceArn = /^arn:aws[a-z-]*:iam::\d{12}:(mfa|u2f)\/[\w+=,.@/-]+$/.test(serialNumber);
  const isHardwareSerial = !serialNumber.startsWith('arn:') && /^[\w+=/:,.@-]{9,256}$/.test(serialNumber);
  if (!isDeviceArn && !isHardwareSerial) {
    throw new MfaInputError(`"${serialNumber}" is not an MFA device: expected arn:aws:iam::<12-digit account>:mfa/<device name>, or a hardware token serial`);
  }
  if (!tokenCode) throw new MfaInputError('missing MFA code: set LAB_MFA_CODE to the 6 digits your device shows now');
  if (!/^\d{6}$/.test(tokenCode)) throw new MfaInputError(`MFA code must be exactly 6 digits, got "${tokenCode}"`);
  return { SerialNumber: serialNumber, TokenCode: tokenCode };
}
