import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import { Construct } from 'constructs';
import { ConstructUsageError, PropsValidator } from '../core/validation';
import type { ProjectContext } from './build-stage';

/** What a deploy target adds to the Build stage, asked before the build project is created. */
export interface TargetBuildNeeds {
  readonly environmentVariables: Record<string, codebuild.BuildEnvironmentVariable>;
  /** Whether the build runs the Docker daemon (image builds). */
  readonly privileged: boolean;
}

/** What a deploy target gives the pipeline once bound. */
export interface TargetBinding {
  /** The Deploy stage's action. */
  readonly action: codepipeline.IAction;
  /** The CodeDeploy deployment group, for the failed-deployment notification rule. */
  readonly deployment: { readonly applicationName: string; readonly deploymentGroupName: string };
  /** Projects the target created (their failed builds are notified too). */
  readonly projects: codebuild.IProject[];
  /** Called once the pipeline exists. */
  readonly onPipeline?: (pipeline: codepipeline.Pipeline) => void;
}

/**
 * Where the pipeline's Deploy stage shifts traffic: `DeployTarget.lambdaAlias(...)` or `DeployTarget.ecsService(...)`.
 * The pipeline calls, in order: `validate`, `prepareBuild`, `grantBuild`, `bind`. A target belongs to one pipeline;
 * its handle's fields are readable once the pipeline is created.
 */
export interface IDeployTarget {
  /** Alarms that roll a deployment back: the ones the target creates and the ones given. */
  readonly rollbackAlarms: cloudwatch.IAlarm[];
  /** Records the problems of the target's options with the pipeline's others. */
  validate(check: PropsValidator): void;
  /** Creates what the build needs (in `scope`, the pipeline) and returns its environment variables. */
  prepareBuild(scope: Construct): TargetBuildNeeds;
  /** Grants the build project what the target needs from it (pushing an image). */
  grantBuild(buildProject: codebuild.PipelineProject): void;
  /** Creates the deployment group, hooks and the Deploy stage's action in `context.scope`. */
  bind(context: ProjectContext, buildOutput: codepipeline.Artifact): TargetBinding;
}

/** Holds what a target creates when bound; reading it before is a coded usage error. */
export class BoundParts<T> {
  private parts?: T;
  private boundTo?: string;

  constructor(private readonly who: string) {}

  get isBound(): boolean {
    return this.boundTo !== undefined;
  }

  /** Records `TargetInUse` when a pipeline already uses the target; then marks it bound to `scope`. */
  validateUnused(check: PropsValidator): void {
    check.require(!this.isBound, 'TargetInUse', `${this.who} already deploys for ${this.boundTo}: create one target per pipeline`);
  }

  bindTo(scope: Construct): void {
    this.boundTo = scope.node.path;
  }

  set(parts: T): T {
    this.parts = parts;
    return parts;
  }

  get(field: string): T {
    if (!this.parts) {
      throw new ConstructUsageError(this.who, 'BlueGreenPipeline.TargetNotBound',
        `${field} is created by the pipeline: pass this target to a BlueGreenPipeline before reading it`);
    }
    return this.parts;
  }
}

/** A part of a target its options turned off, asked for anyway. */
export function partOff(who: string, field: string, option: string): ConstructUsageError {
  return new ConstructUsageError(who, 'BlueGreenPipeline.PartOff', `${field} does not exist: the target was created with ${option}`);
}
