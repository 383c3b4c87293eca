import type { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';

/** What ECS accepts in the deployment configuration of a service (the ranges CDK's FargateService also enforces). */
export const ECS_DEPLOYMENT_LIMITS = {
  /** Longest bake time of a blue/green, linear or canary deployment (`bakeTimeInMinutes`), and of one step. */
  maxBakeTimeMinutes: 1440,
  /** Traffic per step of a linear deployment, percent, in multiples of 0.1. */
  linearStepPercent: { min: 3, max: 100 },
  /** Traffic in the canary of a canary deployment, percent, in multiples of 0.1. */
  canaryPercent: { min: 0.1, max: 100 },
} as const;

/** A Lambda function Amazon ECS calls at stages of a deployment; it answers SUCCEEDED, FAILED or IN_PROGRESS. */
export interface DeploymentHook {
  readonly handler: lambda.IFunction;
  /** Stages at which ECS calls it (POST_SCALE_UP: the new tasks run but take no traffic yet). */
  readonly stages: readonly ecs.DeploymentLifecycleStage[];
}

/** Options of a native ECS blue/green deployment. */
export interface BlueGreenOptions {
  /** How long both revisions stay up after the shift, ready to roll back, in whole minutes. @default 1 minute */
  readonly bakeTime?: Duration;
  /** Lambda hooks that can fail the deployment (and roll it back). @default none */
  readonly hooks?: readonly DeploymentHook[];
}

/** Options of a linear or canary deployment: blue/green with production traffic moved in steps. */
export interface TrafficShiftOptions extends BlueGreenOptions {
  /** Percent of production traffic per step (linear: 3 to 100) or in the canary (0.1 to 100), in multiples of 0.1. */
  readonly stepPercent: number;
  /** How long each step (linear) or the canary stays before the next shift, in whole minutes up to 1,440. */
  readonly stepBakeTime: Duration;
}

/** How the service replaces its tasks on a deployment (the ECS deployment controller in every case). */
export class AppDeployment {
  /** Rolling update: new tasks replace old ones in batches set by minimum/maximum healthy percent. */
  static rolling(): AppDeployment {
    return new AppDeployment(ecs.DeploymentStrategy.ROLLING, {});
  }

  /**
   * Native ECS blue/green (2025): ECS starts the whole new revision (green) beside the old (blue), runs the hooks,
   * shifts traffic (with a load balancer or Service Connect; a headless service has none to shift), keeps blue for the
   * bake time, then stops it. A failed hook, the circuit breaker or an alarm rolls back to blue. No CodeDeploy.
   */
  static blueGreen(options: BlueGreenOptions = {}): AppDeployment {
    return new AppDeployment(ecs.DeploymentStrategy.BLUE_GREEN, options);
  }

  /**
   * Linear (2025): like blue/green, but production traffic moves in equal steps of `stepPercent`, each kept for
   * `stepBakeTime`, so a bad revision meets a growing share of users before a rollback. Needs a load balancer.
   */
  static linear(options: TrafficShiftOptions): AppDeployment {
    return new AppDeployment(ecs.DeploymentStrategy.LINEAR, options, options);
  }

  /** Canary (2025): `stepPercent` of production traffic for `stepBakeTime`, then all of it. Needs a load balancer. */
  static canary(options: TrafficShiftOptions): AppDeployment {
    return new AppDeployment(ecs.DeploymentStrategy.CANARY, options, options);
  }

  private constructor(
    readonly strategy: ecs.DeploymentStrategy,
    readonly options: BlueGreenOptions,
    /** The steps of a linear or canary deployment. */
    readonly trafficShift?: { readonly stepPercent: number; readonly stepBakeTime: Duration },
  ) {}
}
