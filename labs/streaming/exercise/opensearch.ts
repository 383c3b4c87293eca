import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { check, defineTiming, elapsedSeconds, ExerciseContext, requireOutput } from '../../support/exercise';
import { SEARCH_LAB } from '../constants';
import { regionOfArn, SearchApi } from '../search-api';
import { encode, kinesisOf, runKey } from './clients';

/** How long the OpenSearch step waits for the clicks to be indexed, and how often it searches (tests shorten it). */
export const searchTiming = defineTiming(SEARCH_LAB.exerciseTiming);

interface SearchHits {
  hits?: { total?: { value?: number }; hits?: { _source: Record<string, unknown> }[] };
}
const sourcesOf = (body: unknown) => ((body as SearchHits).hits?.hits ?? []).map((hit) => hit._source);

/**
 * Indexed by Firehose, searched in OpenSearch: the step refuses an anonymous request, then, as the domain's master
 * role, maps the Firehose role to an OpenSearch role that may write the clicks index (fine-grained access control
 * knows IAM roles only through such mappings), puts clicks on the stream and searches them, then by a part of a word.
 */
export async function openSearch(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!outputs.SearchEndpoint) {
    log('the OpenSearch part is not deployed: npx cdk deploy StreamingLab -c streaming:opensearch=true ($27.50/month)');
    return;
  }
  const endpoint = requireOutput(outputs, 'SearchEndpoint');
  const region = regionOfArn(requireOutput(outputs, 'SearchDomainArn'));
  const adminRoleArn = requireOutput(outputs, 'SearchAdminRoleArn');
  const firehoseRoleArn = requireOutput(outputs, 'SearchFirehoseRoleArn');
  const streamName = requireOutput(outputs, 'StreamName');
  const index = SEARCH_LAB.indexName;

  const anonymous = await new SearchApi(endpoint, region).request('POST', `/${index}/_search`, { query: { match_all: {} } });
  log(`an unsigned search: HTTP ${anonymous.status}`);
  check(anonymous.status === 403, `an unsigned request got HTTP ${anonymous.status}, not 403: the domain answers anonymous callers`);

  const { Credentials } = await context
    .client(STSClient, 'STS')
    .send(new AssumeRoleCommand({ RoleArn: adminRoleArn, RoleSessionName: `streaming-${context.runId}` }));
  check(Credentials?.AccessKeyId !== undefined && Credentials.SecretAccessKey !== undefined, `AssumeRole of ${adminRoleArn} returned no credentials`);
  const admin = new SearchApi(endpoint, region, {
    accessKeyId: Credentials.AccessKeyId,
    secretAccessKey: Credentials.SecretAccessKey,
    sessionToken: Credentials.SessionToken,
  });
  // What the Firehose documentation asks for a domain with fine-grained access control: bulk writes, its checks of the
  // cluster, and creating and writing the index; nothing on other indexes.
  const role = await admin.request('PUT', `/_plugins/_security/api/roles/${SEARCH_LAB.writerRole}`, {
    cluster_permissions: ['cluster_composite_ops', 'cluster_monitor'],
    index_permissions: [{ index_patterns: [`${index}*`], allowed_actions: ['create_index', 'manage', 'crud'] }],
  });
  const mapping = await admin.request('PUT', `/_plugins/_security/api/rolesmapping/${SEARCH_LAB.writerRole}`, { backend_roles: [firehoseRoleArn] });
  log(`as the master role: role ${SEARCH_LAB.writerRole} (write ${index}*) HTTP ${role.status}, mapped to the Firehose role HTTP ${mapping.status}`);
  check(role.status < 300 && mapping.status < 300, `the security API refused the mapping: ${JSON.stringify([role.body, mapping.body])}`);

  const key = runKey(context, 'search');
  const pages = ['/Basket', '/Basket/Checkout', '/Home'];
  const kinesis = await kinesisOf(context);
  for (const [i, page] of pages.entries()) {
    await kinesis.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: key, Data: encode({ key, seq: i + 1, page, runId: context.runId }) }));
  }
  await kinesis.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: key, Data: encode({ key, page: '/Home', type: 'heartbeat', runId: context.runId }) }));
  log(`put ${pages.length} clicks and a heartbeat; the second Firehose stream transforms them and indexes them in ${index}`);

  // This step's partition key, not the run: the second stream indexes every click of the stream, earlier steps' too.
  const ours = { term: { 'key.keyword': key } };
  const { indexDeadlineSeconds, indexPollSeconds } = await context.use(searchTiming);
  const started = Date.now();
  let indexed: Record<string, unknown>[] = [];
  while (Date.now() - started < indexDeadlineSeconds * 1000) {
    const found = await admin.request('POST', `/${index}/_search`, { size: 20, query: ours });
    indexed = found.status === 200 ? sourcesOf(found.body) : [];
    if (indexed.length >= pages.length) break;
    await new Promise((resolve) => setTimeout(resolve, indexPollSeconds * 1000));
  }
  log(`indexed after ${elapsedSeconds(started)} s: ${JSON.stringify(indexed.map((doc) => doc.page))}`);
  check(indexed.every((doc) => doc.type !== 'heartbeat'), 'the heartbeat was indexed: the transform should have dropped it');
  check(indexed.length === pages.length, `expected the ${pages.length} clicks of ${key} in ${index} within ${indexDeadlineSeconds} s, found ${indexed.length}`);

  // Anywhere in the page: a B-tree index of a database serves LIKE 'x%' at best, never LIKE '%x%'.
  const pattern = `*${SEARCH_LAB.pageFragment}*`;
  const partial = await admin.request('POST', `/${index}/_search`, {
    size: 20,
    query: { bool: { filter: [ours], must: [{ wildcard: { 'page.keyword': { value: pattern } } }] } },
  });
  const matched = sourcesOf(partial.body).map((doc) => String(doc.page)).sort();
  log(`wildcard ${pattern} on page.keyword: ${JSON.stringify(matched)}`);
  const expected = pages.map((page) => page.toLowerCase()).filter((page) => page.includes(SEARCH_LAB.pageFragment)).sort();
  check(JSON.stringify(matched) === JSON.stringify(expected), `the partial match returned ${JSON.stringify(matched)}, not ${JSON.stringify(expected)}`);
  log('a part of a word found the clicks that hold it, and only them: what a search engine beside the database is for');
}
