import {
  AppConfigClient,
  DeleteHostedConfigurationVersionCommand,
  ListHostedConfigurationVersionsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-appconfig';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, SweptProfile } from '../../lambda/appconfig-version-sweeper';
import { FakeAppConfig, IDS } from '../labs/appconfig/fake-appconfig';

// AppConfig has no local engine: the handler's calls go to the lab's fake, which refuses to delete a profile that
// still holds versions, as AppConfig does. It lists two versions per page, so the handler has to follow NextToken.
const appconfig = mockClient(AppConfigClient);
const PAGE_SIZE = 2;
const PROFILES: SweptProfile[] = [
  { ProfileId: IDS.flags, StackVersion: '1' },
  { ProfileId: IDS.checkout, StackVersion: '1' },
];
const event = (RequestType: 'Create' | 'Update' | 'Delete') =>
  ({ RequestType, ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider', ApplicationId: IDS.application, Profiles: PROFILES } }) as unknown as CloudFormationCustomResourceEvent;

let fake: FakeAppConfig;
let logged: jest.SpyInstance;

/** What CloudFormation does after the sweeper: delete the version it created in each profile, then the profile. */
function deleteLikeCloudFormation(): void {
  for (const { ProfileId, StackVersion } of PROFILES) {
    fake.deleteVersion(ProfileId, Number(StackVersion));
    fake.deleteProfile(ProfileId);
  }
}

beforeEach(() => {
  logged = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  fake = new FakeAppConfig();
  // The stack's version 1 of each profile; the exercise's rollout and rollback versions; a checkout version an
  // interrupted validators step left behind.
  for (const profile of [IDS.flags, IDS.checkout]) fake.createVersion(profile, '{}');
  fake.createVersion(IDS.flags, '{"rollout":true}');
  fake.createVersion(IDS.flags, '{"rollback":true}');
  fake.createVersion(IDS.checkout, '{"left":"behind"}');
  appconfig.reset();
  appconfig.on(ListHostedConfigurationVersionsCommand).callsFake((input) => {
    if (!fake.versions.has(input.ConfigurationProfileId)) {
      throw new ResourceNotFoundException({ message: 'Configuration profile not found', $metadata: {} });
    }
    const start = Number(input.NextToken ?? 0);
    const numbers = fake.listVersions(input.ConfigurationProfileId);
    const more = start + PAGE_SIZE < numbers.length;
    return {
      Items: numbers.slice(start, start + PAGE_SIZE).map((VersionNumber) => ({ ApplicationId: input.ApplicationId, ConfigurationProfileId: input.ConfigurationProfileId, VersionNumber })),
      NextToken: more ? String(start + PAGE_SIZE) : undefined,
    };
  });
  appconfig.on(DeleteHostedConfigurationVersionCommand).callsFake((input) => void fake.deleteVersion(input.ConfigurationProfileId, input.VersionNumber));
});

test('without the sweeper, the profiles cannot be deleted: the exercise\'s versions are still there', () => {
  expect(deleteLikeCloudFormation).toThrow(`Cannot delete configuration profile ${IDS.flags} because there are still hosted configuration versions existing under it`);
});

test('on Delete it deletes every version but the stack\'s own, across pages, and then the profiles can be deleted', async () => {
  await expect(handler(event('Delete'))).resolves.toEqual({ PhysicalResourceId: `hosted-versions-${IDS.application}` });
  expect(fake.listVersions(IDS.flags)).toEqual([1]);
  expect(fake.listVersions(IDS.checkout)).toEqual([1]);
  expect(logged.mock.calls.map(([line]) => JSON.parse(line as string))).toEqual([
    { message: 'deleted hosted versions', applicationId: IDS.application, profile: IDS.flags, deleted: [2, 3] },
    { message: 'deleted hosted versions', applicationId: IDS.application, profile: IDS.checkout, deleted: [2] },
  ]);
  expect(deleteLikeCloudFormation).not.toThrow();
  expect(fake.versions.size).toBe(0);
});

test('on Delete, a profile someone already deleted by hand is skipped, and the other one still swept', async () => {
  for (const version of fake.listVersions(IDS.checkout)) fake.deleteVersion(IDS.checkout, version);
  fake.deleteProfile(IDS.checkout);
  await expect(handler(event('Delete'))).resolves.toEqual({ PhysicalResourceId: `hosted-versions-${IDS.application}` });
  expect(fake.listVersions(IDS.flags)).toEqual([1]);
  expect(appconfig.commandCalls(DeleteHostedConfigurationVersionCommand, { ConfigurationProfileId: IDS.checkout })).toHaveLength(0);
  expect(JSON.parse(logged.mock.lastCall?.[0] as string)).toMatchObject({ profile: IDS.checkout, deleted: [] });
});

test('on Delete, a listed version without a number is not deleted', async () => {
  appconfig.on(ListHostedConfigurationVersionsCommand).resolves({ Items: [{ ApplicationId: IDS.application, ConfigurationProfileId: IDS.flags }] });
  await handler(event('Delete'));
  expect(appconfig.commandCalls(DeleteHostedConfigurationVersionCommand)).toHaveLength(0);
});

test('on Delete, an error other than a missing profile fails the resource with its message', async () => {
  appconfig.on(ListHostedConfigurationVersionsCommand).rejects(new Error('Rate exceeded'));
  await expect(handler(event('Delete'))).rejects.toThrow('Rate exceeded');
});

test.each(['Create', 'Update'] as const)('on %s it deletes nothing', async (requestType) => {
  await expect(handler(event(requestType))).resolves.toEqual({ PhysicalResourceId: `hosted-versions-${IDS.application}` });
  expect(appconfig.commandCalls(DeleteHostedConfigurationVersionCommand)).toHaveLength(0);
  expect(fake.listVersions(IDS.flags)).toEqual([1, 2, 3]);
});
