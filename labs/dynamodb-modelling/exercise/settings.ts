import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeContinuousBackupsCommand, DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { check, ExerciseContext, ExerciseStep, requireOutput } from '../../support/exercise';
import { MODELLING_LAB } from '../constants';
import { customersOf, deleteRunOrders, documentClient, dynamoOf } from './orders';

async function tableSettings(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const ordersTable = requireOutput(outputs, 'OrdersTableName');
  const productsTable = requireOutput(outputs, 'ProductsTableName');
  const { Table: orders } = await dynamoOf(context).send(new DescribeTableCommand({ TableName: ordersTable }));
  const keySchema = (orders?.KeySchema ?? []).map((k) => `${k.AttributeName} (${k.KeyType})`).join(', ');
  const lsis = (orders?.LocalSecondaryIndexes ?? []).map((i) => `${i.IndexName}: ${i.KeySchema?.map((k) => k.AttributeName).join(' + ')}, ${i.Projection?.ProjectionType}`);
  const gsis = (orders?.GlobalSecondaryIndexes ?? []).map((i) => `${i.IndexName}: ${i.KeySchema?.map((k) => k.AttributeName).join(' + ')}, ${i.Projection?.ProjectionType}`);
  log(`Orders: key ${keySchema}; billing ${orders?.BillingModeSummary?.BillingMode}; LSI ${lsis.join('; ')}; GSI ${gsis.join('; ')}`);
  check(keySchema === 'customerId (HASH), sk (RANGE)', `unexpected key schema ${keySchema}`);
  check(orders?.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST', 'the Orders table is not on demand');
  check(lsis.length === 1 && lsis[0].startsWith(`${MODELLING_LAB.lsiName}: customerId + statusDate`), 'the LSI is missing or keyed differently');
  check(gsis.length === 1 && gsis[0].startsWith(`${MODELLING_LAB.gsiName}: status + createdAt`), 'the GSI is missing or keyed differently');
  const { TimeToLiveDescription: ttl } = await dynamoOf(context).send(new DescribeTimeToLiveCommand({ TableName: ordersTable }));
  log(`Orders TTL: ${ttl?.TimeToLiveStatus} on ${ttl?.AttributeName}`);
  check(ttl?.TimeToLiveStatus === 'ENABLED' && ttl.AttributeName === MODELLING_LAB.ttlAttribute, 'TTL is not enabled on expiresAt');
  const { Table: products } = await dynamoOf(context).send(new DescribeTableCommand({ TableName: productsTable }));
  const throughput = products?.ProvisionedThroughput;
  log(`Products: provisioned ${throughput?.ReadCapacityUnits} RCU / ${throughput?.WriteCapacityUnits} WCU now (auto scaling ${MODELLING_LAB.autoScaling.minCapacity}–${MODELLING_LAB.autoScaling.maxCapacity} at ${MODELLING_LAB.autoScaling.targetUtilizationPercent} %)`);
  check((throughput?.ReadCapacityUnits ?? 0) >= 1 && (throughput?.WriteCapacityUnits ?? 0) >= 1, 'the Products table has no provisioned capacity');
}

async function protection(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const ordersTable = requireOutput(outputs, 'OrdersTableName');
  const productsTable = requireOutput(outputs, 'ProductsTableName');
  for (const table of [ordersTable, productsTable]) {
    const { ContinuousBackupsDescription: backups } = await dynamoOf(context).send(new DescribeContinuousBackupsCommand({ TableName: table }));
    const pitr = backups?.PointInTimeRecoveryDescription;
    log(`${table}: PITR ${pitr?.PointInTimeRecoveryStatus}, restorable from ${pitr?.EarliestRestorableDateTime?.toISOString()} (${pitr?.RecoveryPeriodInDays ?? 35} days)`);
    check(pitr?.PointInTimeRecoveryStatus === 'ENABLED', `PITR is not enabled on ${table}`);
  }
  const { Table: orders } = await dynamoOf(context).send(new DescribeTableCommand({ TableName: ordersTable }));
  const { Table: products } = await dynamoOf(context).send(new DescribeTableCommand({ TableName: productsTable }));
  log(`Orders encryption: ${orders?.SSEDescription ? JSON.stringify(orders.SSEDescription) : 'no SSEDescription = an AWS owned key (free, not in your account)'}`);
  check(orders?.SSEDescription === undefined, 'the Orders table is not encrypted with an AWS owned key');
  const sse = products?.SSEDescription;
  const expectedKey = outputs.ProductsKeyArn;
  log(`Products encryption: ${sse?.SSEType} with ${sse?.KMSMasterKeyArn} (${expectedKey ? 'customer managed key' : 'the AWS managed key aws/dynamodb'})`);
  check(sse?.Status === 'ENABLED' && sse.SSEType === 'KMS', 'the Products table is not encrypted with a KMS key');
  if (expectedKey) check(sse.KMSMasterKeyArn === expectedKey, `the Products table uses ${sse.KMSMasterKeyArn}, not the lab's key`);
  const replicaRegion = outputs.OrdersReplicaRegion;
  if (replicaRegion) {
    const regions = (orders?.Replicas ?? []).map((r) => `${r.RegionName} (${r.ReplicaStatus})`);
    log(`Orders replicas: ${regions.join(', ')}`);
    check(regions.some((r) => r.startsWith(replicaRegion)), `no replica of Orders in ${replicaRegion}`);
  }
}

async function cleanup(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const docs = await context.use(documentClient);
  const table = requireOutput(outputs, 'OrdersTableName');
  const deleted = await deleteRunOrders(context);
  const left = await Promise.all(
    customersOf(context.runId).map(async (customerId) =>
      (await docs.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'customerId = :c', ExpressionAttributeValues: { ':c': customerId }, Select: 'COUNT', ConsistentRead: true }))).Count ?? 0,
    ),
  );
  log(`deleted this run's ${deleted} orders with BatchWriteItem; the products stay (a few KB)`);
  check(left.every((n) => n === 0), 'some orders of this run are still there');
}

export const tableSettingsStep: ExerciseStep = { id: 'table-settings', title: 'keys, indexes, billing modes and TTL as deployed', run: tableSettings };
export const protectionStep: ExerciseStep = { id: 'protection', title: 'PITR, encryption choices, and the optional replica', run: protection };
export const cleanupStep: ExerciseStep = { id: 'cleanup', title: 'delete this run\'s orders', run: cleanup };
