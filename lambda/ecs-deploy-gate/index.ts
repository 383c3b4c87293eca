import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/**
 * What Amazon ECS sends a lifecycle hook of a native blue/green (or linear, canary) deployment. The fields sit under
 * `executionDetails` in the documented payload; older examples put them at the top level, so both are read.
 */
export interface EcsLifecycleHookEvent {
  readonly executionDetails?: HookExecutionDetails;
  readonly lifecycleStage?: string;
  readonly serviceArn?: string;
  readonly targetServiceRevisionArn?: string;
}

interface HookExecutionDetails {
  readonly serviceArn?: string;
  readonly targetServiceRevisionArn?: string;
  readonly testTrafficWeights?: Record<string, number>;
  readonly productionTrafficWeights?: Record<string, number>;
}

/** What ECS reads back: SUCCEEDED continues the deployment, FAILED rolls it back to the last successful revision. */
export interface EcsLifecycleHookResult {
  readonly hookStatus: 'SUCCEEDED' | 'FAILED';
}

/** The gate value that lets a deployment through; any other value (`closed`) fails the hook. */
export const GATE_OPEN = 'open';

/**
 * The deploy gate: a hook that lets a new service revision through only while the gate parameter (GATE_PARAMETER)
 * is `open`. A learner closes the gate to watch ECS roll a deployment back, the way a failing smoke test would.
 */
export function createHandler(ssm: SSMClient, gateParameter: string) {
  return async (event: EcsLifecycleHookEvent): Promise<EcsLifecycleHookResult> => {
    const details = event.executionDetails ?? event;
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: gateParameter }));
    const gate = Parameter?.Value ?? '';
    const hookStatus = gate === GATE_OPEN ? 'SUCCEEDED' : 'FAILED';
    console.log(
      JSON.stringify({
        stage: event.lifecycleStage,
        service: details.serviceArn,
        targetRevision: details.targetServiceRevisionArn,
        gate,
        hookStatus,
      }),
    );
    return { hookStatus };
  };
}

export const handler = createHandler(new SSMClient({}), process.env.GATE_PARAMETER ?? '');
