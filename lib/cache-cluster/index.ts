import { createHash } from 'node:crypto';
import { ArnFormat, Aws, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';

/** ElastiCache's limits this construct checks (ElastiCache user guide: quotas, RBAC, IAM authentication). */
export const ELASTICACHE_LIMITS = {
  /** Replicas of a Valkey/Redis OSS shard (cluster mode disabled). */
  maxReplicas: 5,
  /** Nodes of a Memcached cluster (the per-cluster quota). */
  maxMemcachedNodes: 60,
  /**
   * A user id (CreateUser: a letter, then letters, digits and hyphens; no maximum length documented), lower case, since an
   * IAM-enabled user's id must equal its name and be lower case.
   */
  userIdPattern: /^[a-z][a-z0-9-]*$/,
  /** The first Memcached version with encryption in transit, which this construct always turns on. */
  minMemcachedTlsVersion: '1.6.12',
  /** Days of automatic snapshots a Valkey/Redis OSS cache keeps. */
  maxSnapshotRetentionDays: 35,
  /** Ports ElastiCache accepts for a cluster. */
  minPort: 1024,
  maxPort: 65535,
  /** A node type: `cache.<family>.<size>`. */
  nodeTypePattern: /^cache\.[a-z0-9]+\.[a-z0-9]+$/,
} as const;

/** The settings of a Valkey cache: one shard with a primary and `replicas` replicas. */
export interface ValkeyOptions {
  /** Engine version. @default '8.0' */
  readonly version?: string;
  /** Read replicas of the primary (0–5); with one or more, Multi-AZ with automatic failover is on. @default 0 */
  readonly replicas?: number;
  /** Days of daily snapshots kept (0 turns them off); ElastiCache keeps one per cache free. @default 1 */
  readonly snapshotRetentionDays?: number;
  /**
   * The IAM-authenticated ElastiCache user clients connect as; its user group is `<userId>-group`.
   * @default `u<the stack id's last 12 hex digits>-<a hash of the construct's path>`: unique per stack and construct
   */
  readonly userId?: string;
}

/** The settings of a Memcached cluster: `nodes` nodes, each holding part of the keys (no replication). */
export interface MemcachedOptions {
  /** Engine version; encryption in transit needs 1.6.12 or later. @default '1.6.22' */
  readonly version?: string;
  /**
   * Nodes of the cluster (1–60), spread across the subnets' AZs when more than one. A client of the configuration
   * endpoint alone uses one node; spreading keys needs auto discovery (see the README). @default 1
   */
  readonly nodes?: number;
}

/** Which engine a `CacheCluster` runs; build one with `CacheEngine.valkey()` or `CacheEngine.memcached()`. */
export class CacheEngine {
  /**
   * Valkey (the open-source fork of Redis OSS 7.2 that ElastiCache prices 20% below Redis OSS): data types, replicas
   * and Multi-AZ failover, snapshots; encrypted in transit and at rest, clients authenticate with IAM.
   */
  static valkey(options: ValkeyOptions = {}): CacheEngine {
    return new CacheEngine('valkey', 6380, options, undefined);
  }

  /** Memcached: strings only, no replication, no persistence, no authentication; encrypted in transit (TLS). */
  static memcached(options: MemcachedOptions = {}): CacheEngine {
    return new CacheEngine('memcached', 11212, undefined, options);
  }

  private constructor(
    /** `valkey` or `memcached`. */
    readonly name: 'valkey' | 'memcached',
    /** The port used unless `port` is given: not the engine's well-known one (6379, 11211), which scanners try first. */
    readonly defaultPort: number,
    readonly valkey: ValkeyOptions | undefined,
    readonly memcached: MemcachedOptions | undefined,
  ) {}
}

export interface CacheClusterProps {
  readonly engine: CacheEngine;
  /** The VPC of the cache; clients reach it from inside only. */
  readonly vpc: ec2.IVpc;
  /** Subnets of the cache nodes. @default the VPC's isolated subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Node type. @default 'cache.t4g.micro' (the smallest current Graviton type) */
  readonly nodeType?: string;
  /** Port the nodes listen on (1024–65535). @default 6380 (Valkey), 11212 (Memcached) */
  readonly port?: number;
}

/** Where clients connect: the primary (Valkey) or configuration (Memcached) endpoint. */
export interface CacheEndpoint {
  readonly host: string;
  readonly port: string;
}

/**
 * An ElastiCache cache in a VPC: Valkey (replication group, IAM authentication, TLS, encryption at rest, daily
 * snapshot) or Memcached (TLS), with a security group that lets in only what `grantConnect` names.
 */
export class CacheCluster extends Construct {
  readonly engine: 'valkey' | 'memcached';
  readonly securityGroup: ec2.SecurityGroup;
  readonly endpoint: CacheEndpoint;
  /** Valkey: the replication group id, which an IAM authentication token names. */
  readonly cacheName?: string;
  /** Valkey: the IAM-authenticated user clients connect as (`AUTH <userId> <token>`). */
  readonly userId?: string;
  private readonly port: number;
  private readonly connectArns: string[];

  constructor(scope: Construct, id: string, props: CacheClusterProps) {
    super(scope, id);
    const { engine } = props;
    const nodeType = props.nodeType ?? 'cache.t4g.micro';
    this.port = props.port ?? engine.defaultPort;
    const userId = engine.valkey ? (engine.valkey.userId ?? defaultUserId(this)) : undefined;

    const check = new PropsValidator(this, 'CacheCluster');
    check.require(ELASTICACHE_LIMITS.nodeTypePattern.test(nodeType), 'NodeTypeFormat', `nodeType ${nodeType} is not a node type such as cache.t4g.micro`);
    check.inRange(this.port, { min: ELASTICACHE_LIMITS.minPort, max: ELASTICACHE_LIMITS.maxPort, whole: true }, 'PortRange',
      `port ${this.port} is outside ${ELASTICACHE_LIMITS.minPort}–${ELASTICACHE_LIMITS.maxPort}`);
    check.inRange(engine.valkey?.replicas, { min: 0, max: ELASTICACHE_LIMITS.maxReplicas, whole: true }, 'ReplicasRange',
      `replicas ${engine.valkey?.replicas} is outside 0–${ELASTICACHE_LIMITS.maxReplicas}`);
    check.inRange(engine.valkey?.snapshotRetentionDays, { min: 0, max: ELASTICACHE_LIMITS.maxSnapshotRetentionDays, whole: true }, 'SnapshotRetentionRange',
      `snapshotRetentionDays ${engine.valkey?.snapshotRetentionDays} is outside 0–${ELASTICACHE_LIMITS.maxSnapshotRetentionDays}`);
    check.inRange(engine.memcached?.nodes, { min: 1, max: ELASTICACHE_LIMITS.maxMemcachedNodes, whole: true }, 'MemcachedNodesRange',
      `nodes ${engine.memcached?.nodes} is outside 1–${ELASTICACHE_LIMITS.maxMemcachedNodes}`);
    if (userId !== undefined && !Token.isUnresolved(userId)) {
      check.require(ELASTICACHE_LIMITS.userIdPattern.test(userId), 'UserIdFormat',
        `userId ${userId} is not lower case letters, digits and hyphens starting with a letter: IAM users need user id = user name, lower case`);
    }
    const memcachedVersion = engine.memcached?.version;
    if (memcachedVersion !== undefined) {
      check.require(versionAtLeast(memcachedVersion, ELASTICACHE_LIMITS.minMemcachedTlsVersion), 'MemcachedVersionTls',
        `Memcached version ${memcachedVersion} has no encryption in transit: ${ELASTICACHE_LIMITS.minMemcachedTlsVersion} or later is needed`);
    }
    const subnetIds = selectedSubnetIds(props.vpc, props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
    check.require(typeof subnetIds !== 'string' && subnetIds.length > 0, 'NoSubnets',
      `the VPC has no subnets of the selection (by default: isolated subnets) to put the cache in${typeof subnetIds === 'string' ? `: ${subnetIds}` : ''}`);
    check.throwIfInvalid();

    this.engine = engine.name;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${this.node.path}: ${engine.name} on port ${this.port}, from the clients granted only`,
      allowAllOutbound: false,
    });
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: `Subnets of ${this.node.path}`,
      subnetIds: subnetIds as string[],
    });

    if (engine.valkey && userId) {
      const group = this.valkey(engine.valkey, userId, nodeType, subnetGroup);
      this.cacheName = group.ref;
      this.userId = userId;
      this.endpoint = { host: group.attrPrimaryEndPointAddress, port: group.attrPrimaryEndPointPort };
      this.connectArns = [
        Stack.of(this).formatArn({ service: 'elasticache', resource: 'replicationgroup', resourceName: group.ref, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        Stack.of(this).formatArn({ service: 'elasticache', resource: 'user', resourceName: userId, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ];
    } else {
      const cluster = this.memcachedCluster(engine.memcached ?? {}, nodeType, subnetGroup);
      this.endpoint = { host: cluster.attrConfigurationEndpointAddress, port: cluster.attrConfigurationEndpointPort };
      this.connectArns = [];
    }
  }

  /**
   * Lets `client` reach the cache: an ingress rule from its security groups on the cache's port, and for Valkey
   * `elasticache:Connect` on the replication group and the user, which an IAM authentication token needs.
   */
  grantConnect(client: ec2.IConnectable & iam.IGrantable): void {
    client.connections.allowTo(this.securityGroup, ec2.Port.tcp(this.port), `${this.engine} (TLS)`);
    if (this.connectArns.length > 0) {
      iam.Grant.addToPrincipal({ grantee: client, actions: ['elasticache:Connect'], resourceArns: this.connectArns });
    }
  }

  private valkey(options: ValkeyOptions, userId: string, nodeType: string, subnetGroup: elasticache.CfnSubnetGroup) {
    const user = new elasticache.CfnUser(this, 'User', {
      engine: 'valkey',
      userId,
      userName: userId,
      authenticationMode: { Type: 'iam' },
      accessString: 'on ~* +@all -@dangerous',
    });
    // A user group must hold a user named "default"; this one can do nothing, so a connection without AUTH gets nowhere.
    const disabledDefault = new elasticache.CfnUser(this, 'DisabledDefaultUser', {
      engine: 'valkey',
      userId: Fn.join('-', [userId, 'off']),
      userName: 'default',
      accessString: 'off -@all',
      noPasswordRequired: true,
    });
    const userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine: 'valkey',
      userGroupId: Fn.join('-', [userId, 'group']),
      userIds: [user.userId, disabledDefault.userId],
    });
    // The user ids are given as strings, not references: the dependencies say the users come first.
    userGroup.addResourceDependency(user);
    userGroup.addResourceDependency(disabledDefault);
    const replicas = options.replicas ?? 0;
    const group = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: `${this.node.path}: Valkey, TLS, IAM authentication`,
      engine: 'valkey',
      engineVersion: options.version ?? '8.0',
      cacheNodeType: nodeType,
      numCacheClusters: 1 + replicas,
      automaticFailoverEnabled: replicas > 0,
      multiAzEnabled: replicas > 0,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      port: this.port,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      userGroupIds: [userGroup.ref],
      snapshotRetentionLimit: options.snapshotRetentionDays ?? 1,
    });
    group.addResourceDependency(userGroup);
    Validations.of(group).acknowledge({
      id: 'AwsSolutions-AEC6',
      reason: 'Clients authenticate with IAM through the user group (UserGroupIds), which replaces a shared AUTH token.',
    });
    if (replicas === 0) {
      Validations.of(group).acknowledge({
        id: 'AwsSolutions-AEC4',
        reason: 'replicas: 0 was chosen (one node, the cheapest cache); Multi-AZ needs a replica to fail over to.',
      });
    }
    return group;
  }

  private memcachedCluster(options: MemcachedOptions, nodeType: string, subnetGroup: elasticache.CfnSubnetGroup) {
    const nodes = options.nodes ?? 1;
    return new elasticache.CfnCacheCluster(this, 'Cluster', {
      engine: 'memcached',
      engineVersion: options.version ?? '1.6.22',
      cacheNodeType: nodeType,
      numCacheNodes: nodes,
      azMode: nodes > 1 ? 'cross-az' : 'single-az',
      cacheSubnetGroupName: subnetGroup.ref,
      vpcSecurityGroupIds: [this.securityGroup.securityGroupId],
      port: this.port,
      transitEncryptionEnabled: true,
    });
  }
}

/** Whether a version such as `1.6.22` is `minimum` or later; a version that is not digits and dots is not. */
function versionAtLeast(version: string, minimum: string): boolean {
  if (!/^\d+(\.\d+)*$/.test(version)) return false;
  const parts = version.split('.').map(Number);
  const wanted = minimum.split('.').map(Number);
  for (let i = 0; i < wanted.length; i++) {
    const part = parts[i] ?? 0;
    if (part !== wanted[i]) return part > wanted[i];
  }
  return true;
}

/** The ids of the selected subnets, or why there are none (CDK's words: a VPC without subnets of that type). */
function selectedSubnetIds(vpc: ec2.IVpc, selection: ec2.SubnetSelection): string[] | string {
  try {
    return vpc.selectSubnets(selection).subnetIds;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * A user id unique in the account and Region, lower case as IAM authentication requires: the last group of the stack
 * id's GUID (known at deployment) and a hash of the construct's path (two caches in one stack).
 */
function defaultUserId(scope: Construct): string {
  const stackGuidEnd = Fn.select(4, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
  const pathHash = createHash('sha256').update(scope.node.path).digest('hex').slice(0, 8);
  return Fn.join('', ['u', stackGuidEnd, '-', pathHash]);
}
