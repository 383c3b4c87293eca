/**
 * Limits BlueGreenPipeline checks its props against at synth: CodeDeploy ("Quotas"), CodeBuild ("Quotas"),
 * CodePipeline (manual approval timeout), CodeArtifact (domain name length), and this construct's own bounds.
 */
export const BLUE_GREEN_PIPELINE_LIMITS = {
  /** Canary and linear steps: whole percentages from 1 to 99. */
  minTrafficPercentage: 1,
  maxTrafficPercentage: 99,
  /** Canary and linear intervals: whole minutes, at least 1 (CodeDeploy's unit). */
  minTrafficShiftMinutes: 1,
  /** CodeDeploy's limit on the total wait of a deployment configuration: 2 days. */
  maxTrafficShiftMinutes: 2_880,
  /** Health-check invocations of a Lambda hook, and requests of the ECS test-traffic check. */
  minHookRequests: 1,
  maxHookRequests: 50,
  /** CodeBuild build timeout, whole minutes. */
  minBuildTimeoutMinutes: 5,
  maxBuildTimeoutMinutes: 2_160,
  /** CodePipeline manual approval timeout, whole minutes (60 days). */
  minApprovalTimeoutMinutes: 5,
  maxApprovalTimeoutMinutes: 86_400,
  /** Longest name part taken from the construct path: CodeArtifact domain names (`pkg-<name>-<8 hex>`) allow 50 characters. */
  maxNameInStack: 36,
} as const;
