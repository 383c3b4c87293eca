import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DynamoDBClient,
  QueryCommand,
  TableDescription,
} from '@aws-sdk/client-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamodbModellingLab } from '../../../labs/dynamodb-modelling/lab';
import { DynamodbModellingLabStack } from '../../../labs/dynamodb-modelling/stack';
import { withStack } from '../../../labs/support/app';
import { customersOf, steps } from '../../../labs/dynamodb-modelling/exercise';
import { ExerciseCheckFailed, ExerciseRun, runExercise, runSteps, startExerciseRun } from '../../../labs/support/exercise';
import { ALL_FEATURES_CONTEXT } from '../../../labs/support/lab-stack';
import { deployTablesLocally, LocalDynamoDb, LocallyDeployedTables, startLocalDynamoDb } from '../../support/local-dynamodb';
import { LocalDynamoDbIam, LocalRoleDefinition, startLocalDynamoDbIam } from '../../support/local-dynamodb-iam';
import { LOCAL_ACCOUNT, PolicyDocument, resolveValue, TemplateEnvironment } from '../../support/local-iam';
import { labTemplate, testApp } from '../../support/synth';

jest.setTimeout(30_000);

const lab = withStack(dynamodbModellingLab, DynamodbModellingLabStack);
const template = labTemplate(lab);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
const roleId = Object.keys(resources).find((id) => id.startsWith('TenantRole') && resources[id].Type === 'AWS::IAM::Role')!;
const roleArn = `arn:aws:iam::${LOCAL_ACCOUNT}:role/TenantRole`;

let ddb: LocalDynamoDb;
let iam: LocalDynamoDbIam;
let deployed: LocallyDeployedTables;
let role: LocalRoleDefinition;
let outputs: Record<string, string>;
const lines: string[] = [];
/** One exercise run for the steps against DynamoDB Local, as `npm run lab -- exercise` makes: they share its seeded orders. */
let run: ExerciseRun;
const context = () => run.context;

/** The tenant role as the template declares it, with table ARNs resolved to the local tables'. */
function tenantRole(tables: LocallyDeployedTables): LocalRoleDefinition {
  const env: TemplateEnvironment = {
    account: LOCAL_ACCOUNT,
    region: 'us-east-1',
    stackName: lab.stackName,
    resources: {
      ...Object.fromEntries(Object.entries(tables.tables).map(([id, t]) => [id, { ref: t.name, attributes: { Arn: t.arn } }])),
      [roleId]: { ref: 'TenantRole', attributes: { Arn: roleArn } },
    },
  };
  const policies = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .map((r) => resolveValue(r.Properties.PolicyDocument, env) as PolicyDocument);
  return { arn: roleArn, trustPolicy: resolveValue(resources[roleId].Properties.AssumeRolePolicyDocument, env) as PolicyDocument, policies };
}

beforeAll(async () => {
  ddb = await startLocalDynamoDb();
  deployed = await deployTablesLocally(template, ddb.client);
  role = tenantRole(deployed);
  const tables = Object.values(deployed.tables);
  iam = await startLocalDynamoDbIam({
    upstream: ddb.endpoint,
    roles: [role],
    partitionKeys: Object.fromEntries(tables.map((t) => [t.name, t.partitionKey])),
    tableArns: Object.fromEntries(tables.map((t) => [t.name, t.arn])),
  });
  process.env.AWS_ENDPOINT_URL_DYNAMODB = iam.endpoint;
  process.env.AWS_ENDPOINT_URL_STS = iam.endpoint;
  outputs = { ...deployed.outputs, TenantRoleArn: roleArn };
  run = startExerciseRun({ outputs, log: (line) => lines.push(line) });
});
afterAll(async () => {
  await run?.close();
  await iam?.stop();
  await ddb?.stop();
});
beforeEach(() => (lines.length = 0));

/** Everything but `protection` (PITR, SSE, replicas: APIs DynamoDB Local does not have; tested below) and `cleanup`. */
const localSteps = steps.filter((s) => s.id !== 'protection' && s.id !== 'cleanup');

describe('against the lab\'s tables on DynamoDB Local, behind a local IAM check', () => {
  test.each(localSteps.map((s) => [s.id, s] as const))('step %s passes its own checks', async (_id, step) => {
    await runSteps([step], context());
    expect(lines.length).toBeGreaterThan(2);
  });

  test('the leading-keys step was decided by the role\'s policy: own partition allowed, the other and Scan denied', () => {
    const summary = iam.decisions.map((d) => `${d.action} ${d.leadingKeys?.[0]?.replace(/^run-\w+-/, '') ?? '-'} ${d.decision}`);
    expect(summary).toEqual([
      'dynamodb:GetItem ada Allow',
      'dynamodb:Query ada Allow',
      'dynamodb:GetItem bob ImplicitDeny',
      'dynamodb:Query bob ImplicitDeny',
      'dynamodb:Scan - ImplicitDeny',
    ]);
  });

  test('the leading-keys step fails when the role lets a tenant read every partition', async () => {
    const original = role.policies[0];
    const statement = (original.Statement as PolicyDocument['Statement'] & unknown[])[0] as Record<string, unknown>;
    role.policies[0] = { ...original, Statement: [{ ...statement, Condition: undefined } as never] };
    try {
      const step = steps.find((s) => s.id === 'leading-keys')!;
      const failure = await runSteps([step], context()).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toBe('the tenant could read another customer\'s partition');
    } finally {
      role.policies[0] = original;
    }
  });

  test('a step run alone seeds the orders it needs, and the end of its run deletes them', async () => {
    const count = async (runId: string) => {
      const counts = await Promise.all(
        customersOf(runId).map(async (customerId) =>
          (await ddb.client.send(new QueryCommand({ TableName: outputs.OrdersTableName, KeyConditionExpression: 'customerId = :c', ExpressionAttributeValues: { ':c': { S: customerId } }, Select: 'COUNT' }))).Count ?? 0,
        ),
      );
      return counts.reduce((a, b) => a + b, 0);
    };
    const alone = startExerciseRun({ outputs, log: (line) => lines.push(line) });
    await runSteps(steps.filter((s) => s.id === 'query'), alone.context);
    expect(lines).toContainEqual(expect.stringMatching(/^seeded 18 orders/));
    expect(await count(alone.context.runId)).toBe(18);
    await alone.close();
    expect(lines).toContain(`(end of run: deleted this run's 18 orders)`);
    expect(await count(alone.context.runId)).toBe(0);
  });

  test('cleanup deletes this run\'s orders', async () => {
    await runSteps([steps.find((s) => s.id === 'cleanup')!], context());
    expect(lines.join('\n')).toMatch(/deleted this run's \d+ orders/);
  });
});

describe('the protection step, against DescribeTable / DescribeContinuousBackups answers built from the template', () => {
  const allFeatures = Template.fromStack(
    new lab.stack(testApp({ [ALL_FEATURES_CONTEXT]: true }, { builtinCloudFormationValidation: false }), { lab }),
  );
  const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/0c1e1d0e-0000-4000-8000-000000000001';
  const awsManagedKeyArn = 'arn:aws:kms:us-east-1:123456789012:key/aws-dynamodb-managed';

  /** What DynamoDB would describe for the tables of a template, from their declared settings. */
  function answers(t: Template) {
    const declared = { ...t.findResources('AWS::DynamoDB::GlobalTable'), ...t.findResources('AWS::DynamoDB::Table') };
    const byName = Object.fromEntries(
      Object.entries(declared).map(([id, r]) => {
        const p = r.Properties;
        const replicas = (p.Replicas ?? []) as { Region: unknown; PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled: boolean } }[];
        const pitr = p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled ?? replicas[0]?.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled;
        const sse = p.SSESpecification as { SSEEnabled: boolean; KMSMasterKeyId?: unknown } | undefined;
        const table: TableDescription = {
          TableName: id,
          SSEDescription: sse?.SSEEnabled ? { Status: 'ENABLED', SSEType: 'KMS', KMSMasterKeyArn: sse.KMSMasterKeyId ? keyArn : awsManagedKeyArn } : undefined,
          Replicas: replicas.length > 1 ? replicas.map((r) => ({ RegionName: typeof r.Region === 'string' ? r.Region : 'us-east-1', ReplicaStatus: 'ACTIVE' })) : undefined,
        };
        return [id, { table, pitr: pitr === true }];
      }),
    );
    const outputsOf = Object.fromEntries(Object.keys(t.toJSON().Outputs).map((name) => [name, name]));
    const names = {
      ...outputsOf,
      OrdersTableName: Object.keys(byName).find((id) => id.startsWith('Orders'))!,
      ProductsTableName: Object.keys(byName).find((id) => id.startsWith('Products'))!,
    };
    return { byName, names };
  }

  function stubbed(t: Template, extraOutputs: Record<string, string> = {}) {
    const { byName, names } = answers(t);
    const mock = mockClient(DynamoDBClient);
    mock.on(DescribeTableCommand).callsFake((input: { TableName: string }) => ({ Table: byName[input.TableName].table }));
    mock.on(DescribeContinuousBackupsCommand).callsFake((input: { TableName: string }) => ({
      ContinuousBackupsDescription: {
        ContinuousBackupsStatus: 'ENABLED',
        PointInTimeRecoveryDescription: {
          PointInTimeRecoveryStatus: byName[input.TableName].pitr ? 'ENABLED' : 'DISABLED',
          EarliestRestorableDateTime: new Date(),
          RecoveryPeriodInDays: 35,
        },
      },
    }));
    return { mock, outputs: { ...names, ...extraOutputs } };
  }

  const protection = steps.find((s) => s.id === 'protection')!;

  test('features off: PITR on both tables, an AWS owned key for Orders, the AWS managed key for Products', async () => {
    const { mock, outputs: stubOutputs } = stubbed(template);
    try {
      await runExercise([protection], { outputs: stubOutputs, log: (line) => lines.push(line) });
      expect(lines.join('\n')).toContain('no SSEDescription = an AWS owned key');
    } finally {
      mock.restore();
    }
  });

  test('all features on: the customer managed key, the replica Region', async () => {
    const { mock, outputs: stubOutputs } = stubbed(allFeatures, {
      ProductsKeyArn: keyArn,
      OrdersReplicaRegion: 'us-west-2',
    });
    try {
      await runExercise([protection], { outputs: stubOutputs, log: (line) => lines.push(line) });
      expect(lines.join('\n')).toMatch(/Orders replicas: .*us-west-2 \(ACTIVE\)/);
    } finally {
      mock.restore();
    }
  });

  test('fails when a table has no PITR', async () => {
    const withoutPitr = template.toJSON();
    const products = Object.keys(withoutPitr.Resources).find((id) => id.startsWith('Products') && withoutPitr.Resources[id].Type === 'AWS::DynamoDB::Table')!;
    delete withoutPitr.Resources[products].Properties.PointInTimeRecoverySpecification;
    const { mock, outputs: stubOutputs } = stubbed(Template.fromJSON(withoutPitr));
    try {
      const failure = await runExercise([protection], { outputs: stubOutputs, log: () => undefined }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toBe(`PITR is not enabled on ${products}`);
    } finally {
      mock.restore();
    }
  });
});
