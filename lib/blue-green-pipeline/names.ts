import { createHash } from 'node:crypto';
import { CfnElement, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BLUE_GREEN_PIPELINE_LIMITS } from './limits';

/**
 * A construct's path below its stack as a name part (`Ecs/Delivery` → `Ecs-Delivery`): the repository, the projects
 * and the integration-test stack are named `<stack>-<nameInStack>...`, so two pipelines in one stack never collide,
 * whatever their ids. Long paths keep their start and a hash of the whole path.
 */
export function nameInStack(scope: Construct): string {
  const stack = Stack.of(scope);
  const below = scope.node.scopes.slice(scope.node.scopes.indexOf(stack) + 1);
  const name = below.map((c) => c.node.id).join('-').replace(/[^A-Za-z0-9-]+/g, '-');
  const max = BLUE_GREEN_PIPELINE_LIMITS.maxNameInStack;
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, max - hash.length - 1)}-${hash}`;
}

/**
 * A name as cdk-nag writes it inside a finding id: a literal as is, a Ref as `<LogicalId>`, a GetAtt as
 * `<LogicalId.Attr>`; undefined for any other token (which the construct reports as a props problem).
 */
export function findingText(scope: Construct, name: string): string | undefined {
  const resolved = Stack.of(scope).resolve(name);
  if (typeof resolved === 'string') return resolved;
  if (typeof resolved?.Ref === 'string') return `<${resolved.Ref}>`;
  if (Array.isArray(resolved?.['Fn::GetAtt'])) return `<${resolved['Fn::GetAtt'].join('.')}>`;
  return undefined;
}

/** The logical id of a construct's CloudFormation resource, as cdk-nag writes it (`<Id>` in `<Id.Arn>`). */
export function logicalIdOf(construct: Construct): string {
  const element = CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild;
  return Stack.of(construct).getLogicalId(element as CfnElement);
}
