import {
  GetActivityTaskCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';

export interface ActivityWorkerOptions {
  readonly client: SFNClient;
  readonly activityArn: string;
  /** Shown in the execution history (ActivityStarted). */
  readonly workerName: string;
  /** Does the work; its result is the task's output, what it throws the task's error (its name) and cause. */
  readonly handle: (input: unknown, heartbeat: () => Promise<void>) => Promise<unknown>;
  /** How often a heartbeat is sent while `handle` runs. @default 10 s */
  readonly heartbeatMs?: number;
  /** Stop after answering this many tasks. @default 1 */
  readonly maxTasks?: number;
  /** Stop after this many empty polls in a row (each waits up to 60 s). @default 2 */
  readonly maxEmptyPolls?: number;
  readonly log?: (line: string) => void;
}

export interface ActivityWorkerResult {
  readonly answered: { input: unknown; outcome: 'success' | 'failure'; output?: unknown; error?: string }[];
}

/**
 * An activity worker: long-polls GetActivityTask (the service holds each poll up to 60 s and answers with an empty
 * token when nothing comes), sends SendTaskHeartbeat while it works, and answers SendTaskSuccess or SendTaskFailure.
 */
export async function runActivityWorker(options: ActivityWorkerOptions): Promise<ActivityWorkerResult> {
  const { client, activityArn, workerName, handle } = options;
  const log = options.log ?? (() => undefined);
  const maxTasks = options.maxTasks ?? 1;
  const maxEmptyPolls = options.maxEmptyPolls ?? 2;
  const answered: ActivityWorkerResult['answered'] = [];
  let emptyPolls = 0;
  while (answered.length < maxTasks && emptyPolls < maxEmptyPolls) {
    log(`GetActivityTask (long poll, up to 60 s) as ${workerName}...`);
    const task = await client.send(new GetActivityTaskCommand({ activityArn, workerName }));
    if (!task.taskToken) {
      emptyPolls += 1;
      log('no task');
      continue;
    }
    emptyPolls = 0;
    const taskToken = task.taskToken;
    const input = task.input ? JSON.parse(task.input) : undefined;
    log(`got a task: ${task.input}`);
    const heartbeat = async () => {
      await client.send(new SendTaskHeartbeatCommand({ taskToken }));
      log('SendTaskHeartbeat');
    };
    const timer = setInterval(() => void heartbeat().catch(() => undefined), options.heartbeatMs ?? 10_000);
    try {
      const output = await handle(input, heartbeat);
      await client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output ?? {}) }));
      log(`SendTaskSuccess ${JSON.stringify(output)}`);
      answered.push({ input, outcome: 'success', output });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      await client.send(
        new SendTaskFailureCommand({ taskToken, error: failure.name.slice(0, 256), cause: failure.message.slice(0, 32_768) }),
      );
      log(`SendTaskFailure ${failure.name}: ${failure.message}`);
      answered.push({ input, outcome: 'failure', error: failure.name });
    } finally {
      clearInterval(timer);
    }
  }
  return { answered };
}
