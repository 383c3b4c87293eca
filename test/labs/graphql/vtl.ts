import { render } from 'velocityjs';
import { FieldError } from './appsync-js';

/**
 * Renders an AppSync VTL template with velocityjs and the `$util` subset the lab's templates use: `toJson`,
 * `dynamodb.toDynamoDBJson` (strings, numbers, booleans) and `error`, which ends the field with an error as in AppSync
 * (velocityjs appends to the message of what it rethrows, so the message and type raised are thrown again as given).
 */
export function renderVtl(template: string, ctx: Record<string, unknown>): string {
  let raised: { message: string; errorType?: string } | undefined;
  const util = {
    toJson: (value: unknown) => JSON.stringify(value),
    error: (message: string, errorType?: string) => {
      raised = { message, errorType };
      throw new FieldError(message, errorType);
    },
    dynamodb: {
      toDynamoDBJson: (value: unknown) =>
        JSON.stringify(typeof value === 'number' ? { N: String(value) } : typeof value === 'boolean' ? { BOOL: value } : { S: String(value) }),
    },
  };
  try {
    return render(template, { util, utils: util, ctx, context: ctx });
  } catch (error) {
    throw raised ? new FieldError(raised.message, raised.errorType) : error;
  }
}

