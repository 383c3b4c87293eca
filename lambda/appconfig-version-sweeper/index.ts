/**
 * Custom resource of the appconfig lab (provider framework, onEvent). AppConfig refuses to delete a configuration
 * profile that still holds hosted versions, and CloudFormation deletes only the version it created: the versions the
 * exercise created would leave the profiles DELETE_FAILED. On Delete (which CloudFormation sends before deleting the
 * profiles and their stack-owned versions, as this resource depends on them) it deletes every other hosted version of
 * each profile. Create and Update do nothing. A thrown error becomes a FAILED response with its message.
 */
import {
  AppConfigClient,
  DeleteHostedConfigurationVersionCommand,
  paginateListHostedConfigurationVersions,
  ResourceNotFoundException,
} from '@aws-sdk/client-appconfig';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

const appconfig = new AppConfigClient({});

/** A profile to sweep and the version CloudFormation owns in it (deleted by CloudFormation itself, after this). */
export interface SweptProfile {
  readonly ProfileId: string;
  readonly StackVersion: string;
}

export interface VersionSweeperResponse {
  readonly PhysicalResourceId: string;
}

/** The numbers of the profile's hosted versions but the stack's own; none when the profile is already gone. */
async function exerciseVersions(applicationId: string, profile: SweptProfile): Promise<number[]> {
  const numbers: number[] = [];
  const pages = paginateListHostedConfigurationVersions({ client: appconfig }, { ApplicationId: applicationId, ConfigurationProfileId: profile.ProfileId });
  try {
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        if (item.VersionNumber !== undefined && String(item.VersionNumber) !== profile.StackVersion) numbers.push(item.VersionNumber);
      }
    }
  } catch (error) {
    // Someone deleted the profile (or the application) by hand: nothing is left to block CloudFormation.
    if (error instanceof ResourceNotFoundException) return [];
    throw error;
  }
  return numbers;
}

/** Deletes every hosted version of the profile but the stack's own; returns the numbers deleted. */
export async function deleteExerciseVersions(applicationId: string, profile: SweptProfile): Promise<number[]> {
  const numbers = await exerciseVersions(applicationId, profile);
  for (const versionNumber of numbers) {
    await appconfig.send(new DeleteHostedConfigurationVersionCommand({ ApplicationId: applicationId, ConfigurationProfileId: profile.ProfileId, VersionNumber: versionNumber }));
  }
  return numbers;
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<VersionSweeperResponse> {
  const applicationId = String(event.ResourceProperties.ApplicationId);
  if (event.RequestType === 'Delete') {
    for (const profile of event.ResourceProperties.Profiles as SweptProfile[]) {
      const deleted = await deleteExerciseVersions(applicationId, profile);
      console.log(JSON.stringify({ message: 'deleted hosted versions', applicationId, profile: profile.ProfileId, deleted }));
    }
  }
  return { PhysicalResourceId: `hosted-versions-${applicationId}` };
}
