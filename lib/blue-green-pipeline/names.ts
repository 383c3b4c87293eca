import { createHash } from 'node:crypto';
import { Stack } from 'aws-cdk-lib';
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
