import { AssumeRoleCommand, AssumeRoleCommandInput, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { check, ExerciseContext } from './exercise';

/** The run's STS client, as the caller's own credentials (see serviceEndpoint for the endpoint). */
export const stsOf = (context: Pick<ExerciseContext, 'client'>): STSClient => context.client(STSClient, 'STS');

/** Temporary credentials of a role session, with the time they expire. */
export type AssumedCredentials = AwsCredentialIdentity & { expiration?: Date };

/**
 * AssumeRole for 15 minutes (the minimum, which is all an exercise step needs), then the credentials it returned,
 * ready for an SDK client's `credentials`. `extra` adds or overrides AssumeRole parameters (ExternalId, Tags,
 * SerialNumber + TokenCode, DurationSeconds). `client` is the STS client to call from, the caller's own by default
 * (e.g. an MFA session's).
 */
export async function assumedCredentials(
  context: Pick<ExerciseContext, 'client'>,
  roleArn: string,
  sessionName: string,
  extra: Partial<AssumeRoleCommandInput> = {},
  client: STSClient = stsOf(context),
): Promise<AssumedCredentials> {
  const { Credentials } = await client.send(
    new AssumeRoleCommand({ DurationSeconds: 900, ...extra, RoleArn: roleArn, RoleSessionName: sessionName }),
  );
  check(
    Credentials?.AccessKeyId !== undefined && Credentials.SecretAccessKey !== undefined,
    `AssumeRole ${roleArn} returned no credentials`,
  );
  return {
    accessKeyId: Credentials.AccessKeyId,
    secretAccessKey: Credentials.SecretAccessKey,
    sessionToken: Credentials.SessionToken,
    expiration: Credentials.Expiration,
  };
}
