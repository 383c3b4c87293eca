import * as lambda from 'aws-cdk-lib/aws-lambda';
import { EcsServiceTarget, EcsServiceTargetOptions } from './ecs-target';
import { LambdaAliasTarget, LambdaAliasTargetOptions } from './lambda-target';

/**
 * Where the Deploy stage shifts traffic, one of:
 * - `DeployTarget.lambdaAlias(alias, { ... })`: a Lambda alias, with hooks and alarms that roll it back;
 * - `DeployTarget.ecsService({ ... })`: an ECS service behind a production and a test listener.
 *
 * Each returns a typed handle whose fields (deployment group, hooks, projects) are set once the handle is passed to
 * a `BlueGreenPipeline`: `const target = DeployTarget.lambdaAlias(alias); new BlueGreenPipeline(this, 'Delivery', { target });
 * target.deploymentGroup...`.
 */
export class DeployTarget {
  static lambdaAlias(alias: lambda.Alias, options: LambdaAliasTargetOptions = {}): LambdaAliasTarget {
    return new LambdaAliasTarget(alias, options);
  }

  static ecsService(options: EcsServiceTargetOptions): EcsServiceTarget {
    return new EcsServiceTarget(options);
  }

  private constructor() {}
}
