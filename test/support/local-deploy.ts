import { randomUUID } from 'node:crypto';
import type { Template } from 'aws-cdk-lib/assertions';
import { Credentials, LambdaHandler, LocalAws } from './local-aws';
import { LOCAL_REGION, PolicyDocument, resolveValue, TemplateEnvironment } from './local-iam';
import type { LocalKms } from './local-kms';

/**
 * "Deploys" the IAM roles, KMS keys and aliases, and Lambda functions of a synthesized template onto a `LocalAws`
 * endpoint (and its `LocalKms`), with the policies exactly as synthesized, so exercise tests run against what the
 * lab declares. Other resources get physical ids so policies and outputs that mention them resolve.
 */

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface LocallyDeployedStack {
  readonly env: TemplateEnvironment;
  /** The stack's outputs that resolve locally. */
  readonly outputs: Record<string, string>;
  /** Resolves any template value (a policy, a property) against the local deployment. */
  resolve<T = unknown>(value: unknown): T;
}

export interface LocalDeployOptions {
  readonly kms?: LocalKms;
  /** Handlers of the template's functions, by the start of their logical id; each gets its role's credentials and environment. */
  readonly functions?: Record<string, (credentials: Credentials, environment: Record<string, string>) => LambdaHandler>;
  /** Physical ids for resources this module does not deploy (buckets, queues ...), by logical id. */
  readonly physical?: TemplateEnvironment['resources'];
  readonly stackName?: string;
}

/** The AWS managed policies CDK attaches to its own helper roles, as far as the local engines need them. */
const AWS_MANAGED_POLICIES: Record<string, PolicyDocument> = {
  'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole': {
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
};

function physicalIds(resources: Record<string, CfnResource>, account: string, region: string): TemplateEnvironment['resources'] {
  const ids: TemplateEnvironment['resources'] = {};
  for (const [id, resource] of Object.entries(resources)) {
    switch (resource.Type) {
      case 'AWS::IAM::Role':
        ids[id] = { ref: id, attributes: { Arn: `arn:aws:iam::${account}:role/${id}`, RoleId: `AROA${id.toUpperCase().slice(0, 16)}` } };
        break;
      case 'AWS::IAM::ManagedPolicy':
        ids[id] = { ref: `arn:aws:iam::${account}:policy/${id}`, attributes: { PolicyArn: `arn:aws:iam::${account}:policy/${id}` } };
        break;
      case 'AWS::KMS::Key': {
        const keyId = randomUUID();
        ids[id] = { ref: keyId, attributes: { Arn: `arn:aws:kms:${region}:${account}:key/${keyId}`, KeyId: keyId } };
        break;
      }
      case 'AWS::Lambda::Function':
        ids[id] = { ref: id, attributes: { Arn: `arn:aws:lambda:${region}:${account}:function:${id}` } };
        break;
      case 'AWS::S3::Bucket': {
        const name = id.toLowerCase().slice(0, 50);
        ids[id] = {
          ref: name,
          attributes: { Arn: `arn:aws:s3:::${name}`, DomainName: `${name}.s3.amazonaws.com`, RegionalDomainName: `${name}.s3.${region}.amazonaws.com` },
        };
        break;
      }
      default:
        ids[id] = { ref: id, attributes: { Arn: `arn:aws:local:${region}:${account}:${id}` } };
    }
  }
  return ids;
}

export function deployStackLocally(template: Template, aws: LocalAws, options: LocalDeployOptions = {}): LocallyDeployedStack {
  const json = template.toJSON() as { Resources: Record<string, CfnResource>; Outputs?: Record<string, { Value: unknown }> };
  const env: TemplateEnvironment = {
    account: aws.account,
    region: LOCAL_REGION,
    stackName: options.stackName ?? 'LocalStack',
    resources: { ...physicalIds(json.Resources, aws.account, LOCAL_REGION), ...options.physical },
  };
  const resolve = <T>(value: unknown) => resolveValue(value, env) as T;
  const entries = Object.entries(json.Resources);
  const ofType = (type: string) => entries.filter(([, r]) => r.Type === type);
  for (const [id, resource] of ofType('AWS::KMS::Alias')) {
    env.resources[id] = { ref: resolve<string>(resource.Properties?.AliasName), attributes: {} };
  }

  // Identity policies per role: inline (Policies), AWS::IAM::Policy (Roles), managed (ManagedPolicyArns / Roles).
  const policiesOf = new Map<string, PolicyDocument[]>();
  const attach = (roleRef: unknown, doc: PolicyDocument) => {
    const roleName = resolve<string>(roleRef);
    policiesOf.set(roleName, [...(policiesOf.get(roleName) ?? []), doc]);
  };
  const managed = new Map<string, PolicyDocument>();
  for (const [id, resource] of ofType('AWS::IAM::ManagedPolicy')) {
    const doc = resolve<PolicyDocument>(resource.Properties?.PolicyDocument);
    managed.set(env.resources[id].ref, doc);
    for (const role of (resource.Properties?.Roles as unknown[]) ?? []) attach(role, doc);
  }
  for (const [, resource] of ofType('AWS::IAM::Policy')) {
    for (const role of (resource.Properties?.Roles as unknown[]) ?? []) attach(role, resolve<PolicyDocument>(resource.Properties?.PolicyDocument));
  }
  for (const [id, resource] of ofType('AWS::IAM::Role')) {
    const props = resource.Properties ?? {};
    const inline = ((props.Policies as { PolicyDocument: unknown }[]) ?? []).map((p) => resolve<PolicyDocument>(p.PolicyDocument));
    const attached = ((props.ManagedPolicyArns as unknown[]) ?? []).map((arn) => {
      const resolved = resolve<string>(arn);
      const doc = managed.get(resolved) ?? AWS_MANAGED_POLICIES[resolved];
      if (!doc) throw new Error(`${id}: managed policy ${resolved} has no local definition (AWS managed policies are not modelled)`);
      return doc;
    });
    const boundaryArn = props.PermissionsBoundary === undefined ? undefined : resolve<string>(props.PermissionsBoundary);
    if (boundaryArn && !managed.has(boundaryArn)) throw new Error(`${id}: permissions boundary ${boundaryArn} is not in the template`);
    aws.addRole({
      arn: env.resources[id].attributes.Arn,
      trustPolicy: resolve<PolicyDocument>(props.AssumeRolePolicyDocument),
      identityPolicies: [...inline, ...attached, ...(policiesOf.get(id) ?? [])],
      boundary: boundaryArn ? managed.get(boundaryArn) : undefined,
      maxSessionDurationSeconds: props.MaxSessionDuration as number | undefined,
    });
  }

  if (options.kms) {
    for (const [id, resource] of ofType('AWS::KMS::Key')) {
      const props = resource.Properties ?? {};
      options.kms.createKey({
        keyId: env.resources[id].ref,
        policy: resolve<PolicyDocument>(props.KeyPolicy),
        description: props.Description as string | undefined,
        enableKeyRotation: props.EnableKeyRotation as boolean | undefined,
        rotationPeriodDays: props.RotationPeriodInDays as number | undefined,
        pendingWindowDays: props.PendingWindowInDays as number | undefined,
      });
    }
    for (const [, resource] of ofType('AWS::KMS::Alias')) {
      options.kms.createAlias(resolve<string>(resource.Properties?.AliasName), resolve<string>(resource.Properties?.TargetKeyId).replace(/^.*key\//, ''));
    }
  }

  for (const [id, resource] of ofType('AWS::Lambda::Function')) {
    const factory = Object.entries(options.functions ?? {}).find(([prefix]) => id.startsWith(prefix))?.[1];
    if (!factory) continue;
    const roleArn = resolve<string>(resource.Properties?.Role);
    const credentials = aws.issueCredentials(aws.roleSession(roleArn, id));
    const environment = resolve<Record<string, string>>((resource.Properties?.Environment as { Variables?: unknown })?.Variables ?? {});
    aws.addFunction(id, factory(credentials, environment), roleArn);
  }

  // Outputs naming resources this module does not deploy (a distribution's domain ...) are left out.
  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(json.Outputs ?? {})) {
    try {
      outputs[name] = String(resolve(output.Value));
    } catch {
      // not resolvable locally
    }
  }
  return { env, outputs, resolve };
}
