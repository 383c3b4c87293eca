import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as dax from 'aws-cdk-lib/aws-dax';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CacheCluster, CacheEngine } from '../../lib/cache-cluster';
import { SafeNodejsFunction } from '../../lib/core/function';
import { LabStack, LabStackProps } from '../support/lab-stack';
import type { cachingLab } from './lab';
import { CACHING_LAB } from './constants';
import { vpcFunctionInterfaces } from '../support/vpc-function-interfaces';
import { labVpc } from '../support/lab-vpc';

/**
 * Caching lab: a products table and a function that reads it through lazy loading and writes it with lazy loading or
 * write-through (lambda/caching-products). With the flags, the caches it uses: ElastiCache for Valkey and for
 * Memcached, and a DAX cluster in front of the table, all in one isolated VPC (no NAT gateway, a gateway endpoint
 * for DynamoDB).
 */
export class CachingLabStack extends LabStack<typeof cachingLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    const products = new dynamodb.TableV2(this, 'Products', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    const valkey = this.feature('valkey');
    const memcached = this.feature('memcached');
    const vpc = valkey || memcached || this.feature('dax') ? this.isolatedVpc() : undefined;
    const functionVpc = valkey || memcached ? vpc : undefined;

    const functionSecurityGroup = functionVpc ? this.functionSecurityGroup(functionVpc) : undefined;
    const fn = new SafeNodejsFunction(this, 'ProductsFunction', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'caching-products', 'index.ts'),
      description: 'Reads products through a cache (lazy loading) and writes them (lazy loading or write-through)',
      timeout: Duration.seconds(10),
      vpc: functionVpc,
      vpcSubnets: functionVpc ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } : undefined,
      securityGroups: functionSecurityGroup ? [functionSecurityGroup] : undefined,
      environment: {
        TABLE_NAME: products.tableName,
        CACHE_TTL_SECONDS: String(CACHING_LAB.cacheTtlSeconds),
        CACHE_LOCK_TTL_SECONDS: String(CACHING_LAB.lockTtlSeconds),
        CACHE_LOCK_WAIT_MS: String(CACHING_LAB.lockWaitMs),
        CACHE_LOCK_POLL_MS: String(CACHING_LAB.lockPollMs),
      },
    });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [products.tableArn] }));
    if (functionVpc) this.allowNetworkInterfaces('ProductsFunction', fn, functionVpc);

    const outputs: Record<string, string> = { ProductsTableName: products.tableName, ProductsFunctionName: fn.functionName };
    if (vpc && valkey) {
      const cache = new CacheCluster(this, 'Valkey', { engine: CacheEngine.valkey(), vpc, nodeType: CACHING_LAB.cacheNodeType });
      cache.grantConnect(fn);
      fn.addEnvironment('VALKEY_HOST', cache.endpoint.host);
      fn.addEnvironment('VALKEY_PORT', cache.endpoint.port);
      fn.addEnvironment('VALKEY_USER', cache.userId ?? '');
      fn.addEnvironment('VALKEY_CACHE_NAME', cache.cacheName ?? '');
      outputs.ValkeyEndpoint = `${cache.endpoint.host}:${cache.endpoint.port}`;
    }
    if (vpc && memcached) {
      const cache = new CacheCluster(this, 'Memcached', { engine: CacheEngine.memcached(), vpc, nodeType: CACHING_LAB.cacheNodeType });
      cache.grantConnect(fn);
      fn.addEnvironment('MEMCACHED_HOST', cache.endpoint.host);
      fn.addEnvironment('MEMCACHED_PORT', cache.endpoint.port);
      outputs.MemcachedEndpoint = `${cache.endpoint.host}:${cache.endpoint.port}`;
    }
    if (vpc && this.feature('dax')) {
      const { cluster, clients } = this.daxCluster(products, vpc);
      const probe = this.daxProbe(products, vpc, cluster, clients);
      outputs.DaxClusterEndpoint = cluster.attrClusterDiscoveryEndpointUrl;
      outputs.DaxProbeFunctionName = probe.functionName;
    }
    this.addOutputs(outputs);
  }

  /** Two isolated subnets (no NAT gateway, no internet), DynamoDB through a gateway endpoint (free), rejected flows logged. */
  private isolatedVpc(): ec2.Vpc {
    return labVpc(this, 'Vpc', {
      subnets: 'isolated',
      maxAzs: 2,
      gatewayEndpoints: { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } },
    });
  }

  /**
   * The function's security group: HTTPS out, which reaches DynamoDB only (the isolated subnets route nowhere but the
   * VPC and the gateway endpoint); each cache's grantConnect adds its port. The rule names any IPv4 address rather than
   * DynamoDB's managed prefix list: the list's id is per Region and can only be read at synth time through a context
   * lookup (which needs credentials) or at deploy time through a custom-resource Lambda function, and the narrower rule
   * would change nothing the route tables do not already enforce, since a packet to any other address has no route.
   */
  private functionSecurityGroup(vpc: ec2.Vpc): ec2.SecurityGroup {
    const group = new ec2.SecurityGroup(this, 'ProductsFunctionSecurityGroup', {
      vpc,
      description: 'The products function: DynamoDB (HTTPS through the gateway endpoint) and the caches it is granted',
      allowAllOutbound: false,
    });
    group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'DynamoDB through the gateway endpoint');
    return group;
  }

  /** What Lambda needs, as the function's role, to attach the function to the lab's isolated subnets. */
  private allowNetworkInterfaces(id: string, fn: SafeNodejsFunction, vpc: ec2.Vpc): void {
    const access = vpcFunctionInterfaces(this, { vpc, subnets: vpc.isolatedSubnets, securityGroups: fn.connections.securityGroups });
    const policy = new iam.Policy(this, `${id}NetworkInterfaces`, { roles: [fn.role as iam.IRole], statements: access.statements });
    fn.node.addDependency(policy);
    access.acknowledge(policy);
  }

  /**
   * A one-node DAX cluster in the isolated subnets, encrypted at rest and in transit, reading and writing the products
   * table. Clients (the DAX probe function) join `clients`.
   */
  private daxCluster(products: dynamodb.TableV2, vpc: ec2.Vpc): { cluster: dax.CfnCluster; clients: ec2.SecurityGroup } {
    const clients = new ec2.SecurityGroup(this, 'DaxClientSecurityGroup', {
      vpc,
      description: 'DAX clients (the DAX probe function): the cluster over TLS, and DynamoDB directly',
      allowAllOutbound: false,
    });
    const securityGroup = new ec2.SecurityGroup(this, 'DaxSecurityGroup', {
      vpc,
      description: 'DAX cluster: TLS from the DAX client security group only',
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(clients, ec2.Port.tcp(CACHING_LAB.daxTlsPort), 'DAX clients (TLS)');
    clients.addEgressRule(securityGroup, ec2.Port.tcp(CACHING_LAB.daxTlsPort), 'the DAX cluster (TLS)');
    // Any IPv4 address, as the products function's rule: only DynamoDB's gateway endpoint has a route (functionSecurityGroup).
    clients.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'DynamoDB through the gateway endpoint (reads that bypass DAX)');
    const subnetGroup = new dax.CfnSubnetGroup(this, 'DaxSubnets', {
      description: 'Isolated subnets of the caching lab VPC',
      subnetIds: vpc.isolatedSubnets.map((s) => s.subnetId),
    });
    const role = new iam.Role(this, 'DaxRole', {
      assumedBy: new iam.ServicePrincipal('dax.amazonaws.com'),
      description: 'Lets the DAX cluster read and write the products table',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:DescribeTable',
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:Scan',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [products.tableArn],
      }),
    );
    const cluster = new dax.CfnCluster(this, 'DaxCluster', {
      description: `Item and query cache in front of the products table of ${this.stackName}`,
      iamRoleArn: role.roleArn,
      nodeType: CACHING_LAB.daxNodeType,
      replicationFactor: 1,
      subnetGroupName: subnetGroup.ref,
      securityGroupIds: [securityGroup.securityGroupId],
      sseSpecification: { sseEnabled: true },
      clusterEndpointEncryptionType: 'TLS',
    });
    cluster.node.addDependency(role);
    return { cluster, clients };
  }

  /**
   * The function the exercise's `dax` step invokes: it reads and writes through DAX and directly from inside the VPC
   * (lambda/caching-dax-probe), since the cluster has no endpoint outside it.
   */
  private daxProbe(products: dynamodb.TableV2, vpc: ec2.Vpc, cluster: dax.CfnCluster, clients: ec2.SecurityGroup): SafeNodejsFunction {
    const probe = new SafeNodejsFunction(this, 'DaxProbeFunction', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'caching-dax-probe', 'index.ts'),
      description: 'Reads and writes a product through DAX and directly, showing the item cache and the query cache',
      timeout: Duration.seconds(30),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [clients],
      environment: { TABLE_NAME: products.tableName, DAX_ENDPOINT: cluster.attrClusterDiscoveryEndpointUrl },
    });
    probe.addToRolePolicy(new iam.PolicyStatement({ actions: ['dax:GetItem', 'dax:PutItem', 'dax:Query'], resources: [cluster.attrArn] }));
    probe.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [products.tableArn] }));
    this.allowNetworkInterfaces('DaxProbeFunction', probe, vpc);
    return probe;
  }
}
