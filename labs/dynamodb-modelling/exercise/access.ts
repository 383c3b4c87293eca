import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, QueryCommandInput, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { assumedCredentials } from '../../support/credentials';
import { check, createClient, ExerciseContext, ExerciseStep, requireOutput } from '../../support/exercise';
import { MODELLING_LAB } from '../constants';
import { customersOf, seededOrders } from './orders';

async function leadingKeys(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const table = requireOutput(outputs, 'OrdersTableName');
  const roleArn = requireOutput(outputs, 'TenantRoleArn');
  const orders = await context.use(seededOrders);
  const [me, other] = customersOf(context.runId);
  const credentials = await assumedCredentials(context, roleArn, `${context.runId}-tenant`, { Tags: [{ Key: MODELLING_LAB.tenantTag, Value: me }] });
  log(`assumed the tenant role with session tag ${MODELLING_LAB.tenantTag}=${me}`);
  const tenant = DynamoDBDocumentClient.from(createClient(DynamoDBClient, 'DYNAMODB', { credentials }));
  const attempt = async (name: string, call: () => Promise<unknown>): Promise<'allowed' | 'denied'> => {
    const outcome = await call().then(
      () => 'allowed' as const,
      (error: Error) => {
        if (error.name !== 'AccessDeniedException') throw error;
        return 'denied' as const;
      },
    );
    log(`  ${name}: ${outcome}`);
    return outcome;
  };

  const mine = orders.find((o) => o.customerId === me)!;
  const theirs = orders.find((o) => o.customerId === other)!;
  const ownQuery: QueryCommandInput = {
    TableName: table,
    KeyConditionExpression: 'customerId = :c',
    ExpressionAttributeValues: { ':c': me },
  };
  const ownGet = await attempt(`GetItem of my order (${me})`, () =>
    tenant.send(new GetCommand({ TableName: table, Key: { customerId: me, sk: mine.sk } })),
  );
  const ownList = await attempt('Query of my partition', () => tenant.send(new QueryCommand(ownQuery)));
  const otherGet = await attempt(`GetItem of ${other}'s order`, () =>
    tenant.send(new GetCommand({ TableName: table, Key: { customerId: other, sk: theirs.sk } })),
  );
  const otherQuery = await attempt(`Query of ${other}'s partition`, () =>
    tenant.send(new QueryCommand({ ...ownQuery, ExpressionAttributeValues: { ':c': other } })),
  );
  const scan = await attempt('Scan of the table', () => tenant.send(new ScanCommand({ TableName: table, Limit: 1 })));
  check(ownGet === 'allowed' && ownList === 'allowed', 'the tenant could not read its own partition');
  check(otherGet === 'denied' && otherQuery === 'denied', 'the tenant could read another customer\'s partition');
  check(scan === 'denied', 'the tenant could Scan the table (a Scan has no partition key to check)');
  log('dynamodb:LeadingKeys holds the partition keys a request touches; the role allows them only when they equal the caller\'s tag');
}

export const leadingKeysStep: ExerciseStep = { id: 'leading-keys', title: 'fine-grained access: only my partition (dynamodb:LeadingKeys)', run: leadingKeys };
