import { Aws, CfnRule, Duration, Fn, Lazy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LabConfigError, LabStack, LabStackProps } from '../support/lab-stack';
import type { dynamodbModellingLab } from './lab';
import { MODELLING_LAB } from './constants';

/**
 * DynamoDB modelling lab: an on-demand table with a composite key, an LSI, a GSI, TTL and PITR; a provisioned table
 * with auto scaling; the three encryption choices; a role that reaches only the caller's own partition
 * (dynamodb:LeadingKeys); optional global table replica and customer managed key. DAX is in the caching lab.
 */
export class DynamodbModellingLabStack extends LabStack<typeof dynamodbModellingLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    const replica = this.feature('replica');

    const orders = new dynamodb.TableV2(this, 'Orders', {
      partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      localSecondaryIndexes: [
        {
          indexName: MODELLING_LAB.lsiName,
          sortKey: { name: 'statusDate', type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.INCLUDE,
          nonKeyAttributes: ['orderId', 'amountCents'],
        },
      ],
      globalSecondaryIndexes: [
        {
          indexName: MODELLING_LAB.gsiName,
          partitionKey: { name: 'status', type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'createdAt', type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.INCLUDE,
          nonKeyAttributes: ['customerId', 'orderId', 'amountCents'],
        },
      ],
      timeToLiveAttribute: MODELLING_LAB.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.dynamoOwnedKey(),
      tableClass: dynamodb.TableClass.STANDARD,
      // Replicating a global table needs a stream of new and old images.
      dynamoStream: replica ? dynamodb.StreamViewType.NEW_AND_OLD_IMAGES : undefined,
    });
    const replicaRegion = this.parameter('replicaRegion');
    if (replicaRegion && !replica) {
      throw new LabConfigError('dynamodb-modelling:replicaRegion applies only with -c dynamodb-modelling:replica=true');
    }
    if (replica) this.addReplica(orders, replicaRegion ?? MODELLING_LAB.defaultReplicaRegion);

    const productsKey = this.feature('cmk')
      ? new kms.Key(this, 'ProductsKey', {
          description: `Encrypts the Products table of ${this.stackName}`,
          enableKeyRotation: true,
          pendingWindow: Duration.days(7),
        })
      : undefined;
    // A table of the first generation L2 (AWS::DynamoDB::Table): its auto scaling is explicit Application Auto
    // Scaling resources, and a customer managed key needs no Region at synth (TableV2's does).
    const { minCapacity, maxCapacity, targetUtilizationPercent } = MODELLING_LAB.autoScaling;
    const products = new dynamodb.Table(this, 'Products', {
      partitionKey: { name: 'productId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PROVISIONED,
      readCapacity: minCapacity,
      writeCapacity: minCapacity,
      encryption: productsKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: productsKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    products.autoScaleReadCapacity({ minCapacity, maxCapacity }).scaleOnUtilization({ targetUtilizationPercent });
    products.autoScaleWriteCapacity({ minCapacity, maxCapacity }).scaleOnUtilization({ targetUtilizationPercent });

    const tenantRole = this.tenantRole(orders);
    const outputs: Record<string, string> = {
      OrdersTableName: orders.tableName,
      ProductsTableName: products.tableName,
      TenantRoleArn: tenantRole.roleArn,
    };
    if (replica) outputs.OrdersReplicaRegion = replicaRegion ?? MODELLING_LAB.defaultReplicaRegion;
    if (productsKey) outputs.ProductsKeyArn = productsKey.keyArn;
    this.addOutputs(outputs);
  }

  /**
   * A role for one customer at a time: it reads and writes only items whose partition key equals the session tag
   * `customerId` given when the role is assumed. `ForAllValues` holds vacuously when a request has no partition key
   * (Scan), so the role is given no action that can run without one.
   */
  private tenantRole(orders: dynamodb.TableV2): iam.Role {
    const role = new iam.Role(this, 'TenantRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: 'Reaches only the Orders items whose customerId equals the customerId session tag',
      maxSessionDuration: Duration.hours(1),
    });
    role.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:TagSession'],
        principals: [new iam.AccountRootPrincipal()],
        conditions: {
          StringLike: { [`aws:RequestTag/${MODELLING_LAB.tenantTag}`]: '?*' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [MODELLING_LAB.tenantTag] },
        },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        // The LSI shares the table's partition key, so the condition protects it too; the GSI does not.
        resources: [orders.tableArn, `${orders.tableArn}/index/${MODELLING_LAB.lsiName}`],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`\${aws:PrincipalTag/${MODELLING_LAB.tenantTag}}`] },
        },
      }),
    );
    return role;
  }

  /**
   * Adds a replica of `orders` in `region`. The stack stays environment-agnostic, so its own Region is unknown at
   * synth and CDK's TableV2 refuses `replicas`: the replica is appended to the rendered replica list instead, copying
   * the primary's settings (PITR, table class, tags, index settings), and a template rule refuses, before anything is
   * created, a deployment to the replica's own Region.
   */
  private addReplica(orders: dynamodb.TableV2, region: string): void {
    new CfnRule(this, 'ReplicaInAnotherRegion', {
      assertions: [
        {
          assert: Fn.conditionNot(Fn.conditionEquals(region, Aws.REGION)),
          assertDescription: `The Orders replica is in ${region}: deploy the stack to another Region, or choose another with -c dynamodb-modelling:replicaRegion=<region>`,
        },
      ],
    });
    const resource = orders.node.defaultChild as dynamodb.CfnGlobalTable;
    const primaryOnly = resource.replicas;
    resource.replicas = Lazy.any({
      produce: () => {
        // L1 property names (camelCase): the L1 renders them to CloudFormation's after this.
        const replicas = Stack.of(this).resolve(primaryOnly) as Record<string, unknown>[];
        return [...replicas, { ...replicas[0], region }];
      },
    });
  }
}
