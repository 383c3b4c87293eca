import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { credentialSourceName, describeCredentialChain, MfaInputError, mfaParameters } from '../../../labs/iam-sts/credentials';

let home: string;
beforeAll(() => {
  home = mkdtempSync(path.join(tmpdir(), 'chain-'));
  mkdirSync(path.join(home, '.aws'));
  writeFileSync(path.join(home, '.aws', 'credentials'), '[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n\n[ci]\n; comment\naws_access_key_id=AKIACI\n');
  writeFileSync(
    path.join(home, '.aws', 'config'),
    '[default]\nregion = eu-west-1\n\n[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\n[profile admin]\nrole_arn = arn:aws:iam::111122223333:role/Admin\nsource_profile = default\nmfa_serial = arn:aws:iam::111122223333:mfa/me\n\n[profile tool]\ncredential_process = /usr/bin/get-creds\n',
  );
});
afterAll(() => rmSync(home, { recursive: true, force: true }));
const status = async (env: Record<string, string>) => Object.fromEntries((await describeCredentialChain(env, home)).map((l) => [l.name, l.configured]));

test('lists the SDK v3 default chain in its order', async () => {
  expect((await describeCredentialChain({}, home)).map((l) => l.name)).toEqual(['environment', 'sso', 'ini', 'process', 'web-identity', 'container', 'instance-metadata']);
});

test('environment keys come first, unless AWS_PROFILE is set', async () => {
  expect((await status({ AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's' })).environment).toBe(true);
  const withProfile = await describeCredentialChain({ AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's', AWS_PROFILE: 'ci' }, home);
  expect(withProfile[0]).toMatchObject({ configured: false, detail: 'set, but skipped because AWS_PROFILE is set' });
  expect(withProfile[2]).toMatchObject({ configured: true, detail: 'profile "ci" has static keys' });
});

test('reads SSO, assume-role and credential_process profiles from ~/.aws/config', async () => {
  expect(await status({ AWS_PROFILE: 'dev' })).toMatchObject({ sso: true, ini: false });
  expect((await describeCredentialChain({ AWS_PROFILE: 'dev' }, home))[1].detail).toBe('profile "dev" uses sso-session corp');
  expect((await describeCredentialChain({ AWS_PROFILE: 'admin' }, home))[2].detail).toBe('profile "admin" assumes arn:aws:iam::111122223333:role/Admin');
  expect(await status({ AWS_PROFILE: 'tool' })).toMatchObject({ process: true, ini: false });
  expect(await status({})).toMatchObject({ ini: true, sso: false });
});

test('an [sso-session] section is not a profile', async () => {
  expect(await status({ AWS_PROFILE: 'corp' })).toMatchObject({ sso: false, ini: false });
});

test('reads the files named by AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, and nothing when they are missing', async () => {
  const elsewhere = mkdtempSync(path.join(tmpdir(), 'chain-env-'));
  try {
    writeFileSync(path.join(elsewhere, 'creds'), '[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = y\n');
    writeFileSync(path.join(elsewhere, 'conf'), '[profile other]\ncredential_process = /bin/other\n');
    const env = { AWS_PROFILE: 'other', AWS_SHARED_CREDENTIALS_FILE: path.join(elsewhere, 'creds'), AWS_CONFIG_FILE: path.join(elsewhere, 'conf') };
    const links = await describeCredentialChain(env, home);
    expect(links[2]).toMatchObject({ configured: true, detail: 'profile "other" has static keys' });
    expect(links[2].source).toBe(`static keys in ${env.AWS_SHARED_CREDENTIALS_FILE}, or role_arn + source_profile in ${env.AWS_CONFIG_FILE}`);
    expect(links[3]).toMatchObject({ configured: true, detail: 'runs: /bin/other' });
    // The default profile of ~/.aws is not read when the variables point elsewhere.
    expect(await status({ ...env, AWS_PROFILE: 'default' })).toMatchObject({ ini: false });
    expect(await status({ AWS_SHARED_CREDENTIALS_FILE: path.join(elsewhere, 'missing'), AWS_CONFIG_FILE: path.join(elsewhere, 'missing') })).toMatchObject({ ini: false, sso: false, process: false });
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
  }
});

test('web identity, container and instance metadata links', async () => {
  expect((await status({ AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token', AWS_ROLE_ARN: 'arn:aws:iam::1:role/r' }))['web-identity']).toBe(true);
  expect((await status({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/abc' })).container).toBe(true);
  expect((await status({ AWS_EC2_METADATA_DISABLED: 'true' }))['instance-metadata']).toBe(false);
});

test('names the source the SDK tagged resolved credentials with', () => {
  expect(credentialSourceName({ $source: { CREDENTIALS_ENV_VARS: 'g' } })).toBe('environment');
  expect(credentialSourceName({ $source: { CREDENTIALS_PROFILE: 'n', CREDENTIALS_SSO: 's' } })).toBe('sso');
  expect(credentialSourceName({ $source: { CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN: 'h' } })).toBe('web-identity');
  expect(credentialSourceName({ $source: { CREDENTIALS_IMDS: '0' } })).toBe('instance-metadata');
  expect(credentialSourceName({ $source: { CREDENTIALS_CODE: 'e' } })).toBe('CREDENTIALS_CODE');
});

test('untagged credentials came from the last link: the container endpoint when its variable is set, else instance metadata', () => {
  expect(credentialSourceName({}, {})).toBe('instance-metadata');
  expect(credentialSourceName({ $source: {} }, { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/abc' })).toBe('container');
  expect(credentialSourceName({}, { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials' })).toBe('container');
});

describe('MFA parameters', () => {
  test('accept a virtual device ARN and a 6-digit code', () => {
    expect(mfaParameters('arn:aws:iam::111122223333:mfa/learner', '012345')).toEqual({ SerialNumber: 'arn:aws:iam::111122223333:mfa/learner', TokenCode: '012345' });
    expect(mfaParameters('GAHT12345678', '999999').SerialNumber).toBe('GAHT12345678');
  });

  test.each([
    [undefined, '123456', 'missing MFA device: set LAB_MFA_SERIAL to the ARN of your MFA device (arn:aws:iam::<account>:mfa/<name>)'],
    ['arn:aws:iam::111122223333:mfa/learner', undefined, 'missing MFA code: set LAB_MFA_CODE to the 6 digits your device shows now'],
    ['arn:aws:iam::111122223333:mfa/learner', '', 'missing MFA code: set LAB_MFA_CODE to the 6 digits your device shows now'],
    ['arn:aws:iam::111122223333:mfa/learner', '12345', 'MFA code must be exactly 6 digits, got "12345"'],
    ['arn:aws:iam::111122223333:mfa/learner', '12 3456', 'MFA code must be exactly 6 digits, got "12 3456"'],
    ['arn:aws:iam::1111:mfa/learner', '123456', '"arn:aws:iam::1111:mfa/learner" is not an MFA device: expected arn:aws:iam::<12-digit account>:mfa/<device name>, or a hardware token serial'],
    ['arn:aws:iam::111122223333:user/learner', '123456', expect.stringContaining('is not an MFA device')],
  ])('serial %p, code %p → %p', (serial, code, message) => {
    let thrown: unknown;
    try {
      mfaParameters(serial as string | undefined, code as string | undefined);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MfaInputError);
    expect((thrown as Error).message).toEqual(message);
  });
});
