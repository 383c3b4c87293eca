import { accessDenied, AwsError, LocalAws, queryResponse } from './local-aws';
import { authorize, Caller, identityDecision, LOCAL_REGION, PolicyDocument, Values } from './local-iam';

/**
 * Local stand-ins for the services the iam-sts lab calls, on a `LocalAws` endpoint, each authorizing with the
 * caller's identity policies and permissions boundary (local-iam.ts):
 *  - SSM Parameter Store: GetParameter (WithDecryption), PutParameter, DeleteParameter; public /aws/service/ parameters;
 *  - Secrets Manager: GetSecretValue;
 *  - EC2: RunInstances with DryRun (DryRunOperation, or UnauthorizedOperation with an encoded message);
 *  - IAM: SimulateCustomPolicy (with a permissions boundary and context entries) and GetContextKeysForCustomPolicy.
 */

interface StoredParameter {
  name: string;
  type: 'String' | 'StringList' | 'SecureString';
  value: string;
  version: number;
}

const parameterArn = (account: string, name: string) =>
  name.startsWith('/aws/service/')
    ? `arn:aws:ssm:${LOCAL_REGION}::parameter${name}`
    : `arn:aws:ssm:${LOCAL_REGION}:${account}:parameter/${name.replace(/^\//, '')}`;

export class LocalSsm {
  readonly parameters = new Map<string, StoredParameter>();

  constructor(private readonly aws: LocalAws) {
    this.put('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64', 'ami-0123456789abcdef0');
    aws.addJsonService('ssm', (operation, input, caller) => this.handle(operation, input, caller));
  }

  put(name: string, value: string, type: StoredParameter['type'] = 'String'): void {
    const version = (this.parameters.get(name)?.version ?? 0) + 1;
    this.parameters.set(name, { name, type, value, version });
  }

  private authorize(caller: Caller, action: string, name: string): string {
    const arn = parameterArn(this.aws.account, name);
    if (name.startsWith('/aws/service/') && action === 'ssm:GetParameter') return arn;
    const decision = authorize(caller, { action, resource: arn });
    if (decision !== 'Allow') {
      const because = caller.boundary && identityDecision({ ...caller, boundary: undefined }, { action, resource: arn }) === 'Allow'
        ? 'no permissions boundary allows the action'
        : 'no identity-based policy allows the action';
      throw accessDenied(caller, action, arn, because);
    }
    return arn;
  }

  handle(operation: string, input: Record<string, unknown>, caller: Caller): unknown {
    const name = String(input.Name ?? '');
    switch (operation) {
      case 'GetParameter': {
        const arn = this.authorize(caller, 'ssm:GetParameter', name);
        const parameter = this.parameters.get(name);
        if (!parameter) throw new AwsError('ParameterNotFound', '');
        const value = parameter.type === 'SecureString' && input.WithDecryption !== true ? Buffer.from(`encrypted:${parameter.value}`).toString('base64') : parameter.value;
        return { Parameter: { Name: name, Type: parameter.type, Value: value, Version: parameter.version, ARN: arn, DataType: 'text', LastModifiedDate: Date.now() / 1000 } };
      }
      case 'PutParameter': {
        this.authorize(caller, 'ssm:PutParameter', name);
        if (this.parameters.has(name) && input.Overwrite !== true) throw new AwsError('ParameterAlreadyExists', 'The parameter already exists.');
        this.put(name, String(input.Value), (input.Type as StoredParameter['type']) ?? this.parameters.get(name)?.type ?? 'String');
        return { Version: this.parameters.get(name)?.version, Tier: 'Standard' };
      }
      case 'DeleteParameter': {
        this.authorize(caller, 'ssm:DeleteParameter', name);
        if (!this.parameters.delete(name)) throw new AwsError('ParameterNotFound', '');
        return {};
      }
      default:
        throw new AwsError('UnknownOperationException', `local SSM does not implement ${operation}`);
    }
  }
}

export class LocalSecretsManager {
  readonly secrets = new Map<string, string>();

  constructor(aws: LocalAws) {
    aws.addJsonService('secretsmanager', (operation, input, caller) => {
      if (operation !== 'GetSecretValue') throw new AwsError('UnknownOperationException', `local Secrets Manager does not implement ${operation}`);
      const id = String(input.SecretId ?? '');
      if (authorize(caller, { action: 'secretsmanager:GetSecretValue', resource: id }) !== 'Allow') {
        throw accessDenied(caller, 'secretsmanager:GetSecretValue', id);
      }
      const value = this.secrets.get(id);
      if (value === undefined) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      return { ARN: id, Name: id.split(':').pop(), SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'] };
    });
  }
}

/** EC2 RunInstances, dry runs only: authorization is all it checks. */
export function addLocalEc2(aws: LocalAws): void {
  aws.addQueryService('ec2', (action, params, caller) => {
    if (action !== 'RunInstances') throw new AwsError('InvalidAction', `local EC2 does not implement ${action}`);
    if (params.DryRun !== 'true') throw new AwsError('InvalidParameterValue', 'local EC2 runs no instances: use DryRun');
    const resource = `arn:aws:ec2:${LOCAL_REGION}:${aws.account}:instance/*`;
    const decision = authorize(caller, { action: 'ec2:RunInstances', resource });
    if (decision === 'Allow') throw new AwsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
    const encoded = LocalAws.encodeMessage({
      allowed: false,
      explicitDeny: decision === 'ExplicitDeny',
      matchedStatements: { items: [] },
      failures: { items: [] },
      context: { principal: { id: 'AROALOCAL', arn: caller.arn }, action: 'ec2:RunInstances', resource, conditions: { items: [{ key: 'ec2:InstanceType', values: { items: [{ value: params.InstanceType }] } }] } },
    });
    throw new AwsError(
      'UnauthorizedOperation',
      `You are not authorized to perform this operation. User: ${caller.arn} is not authorized to perform: ec2:RunInstances on resource: ${resource} because no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure message: ${encoded}`,
      403,
    );
  });
}

/** Members of a query-protocol list: `<prefix>.member.1`, `.member.2` ... */
function members(params: Record<string, string>, prefix: string): string[] {
  const found: string[] = [];
  for (let i = 1; params[`${prefix}.member.${i}`] !== undefined; i += 1) found.push(params[`${prefix}.member.${i}`]);
  return found;
}

function conditionKeysOf(doc: PolicyDocument): string[] {
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return [...new Set(statements.flatMap((s) => Object.values(s.Condition ?? {}).flatMap((c) => Object.keys(c))))];
}

/** IAM's policy simulator for custom policies, evaluated by the local IAM evaluator. */
export function addLocalIamSimulator(aws: LocalAws): void {
  const ns = 'https://iam.amazonaws.com/doc/2010-05-08/';
  aws.addQueryService('iam', (action, params) => {
    const policies = members(params, 'PolicyInputList').map((p) => JSON.parse(p) as PolicyDocument);
    if (action === 'GetContextKeysForCustomPolicy') {
      const keys = [...new Set(policies.flatMap(conditionKeysOf))];
      return queryResponse(action, `<ContextKeyNames>${keys.map((k) => `<member>${k}</member>`).join('')}</ContextKeyNames>`, ns);
    }
    if (action !== 'SimulateCustomPolicy') throw new AwsError('InvalidAction', `local IAM does not implement ${action}`);
    const boundary = members(params, 'PermissionsBoundaryPolicyInputList').map((p) => JSON.parse(p) as PolicyDocument)[0];
    const context: Record<string, Values> = {};
    for (let i = 1; params[`ContextEntries.member.${i}.ContextKeyName`] !== undefined; i += 1) {
      context[params[`ContextEntries.member.${i}.ContextKeyName`]] = members(params, `ContextEntries.member.${i}.ContextKeyValues`);
    }
    const simulated: Caller = { arn: `arn:aws:iam::${aws.account}:user/simulated`, account: aws.account, identityPolicies: policies, boundary, sessionKeys: context };
    const resources = members(params, 'ResourceArns');
    const results = members(params, 'ActionNames').flatMap((actionName) =>
      (resources.length ? resources : ['*']).map((resource) => {
        const decision = identityDecision(simulated, { action: actionName, resource });
        const evalDecision = decision === 'Allow' ? 'allowed' : decision === 'ExplicitDeny' ? 'explicitDeny' : 'implicitDeny';
        return `<member><EvalActionName>${actionName}</EvalActionName><EvalResourceName>${resource}</EvalResourceName><EvalDecision>${evalDecision}</EvalDecision><MatchedStatements/><MissingContextValues/></member>`;
      }),
    );
    return queryResponse(action, `<IsTruncated>false</IsTruncated><EvaluationResults>${results.join('')}</EvaluationResults>`, ns);
  });
}
