import * as path from 'node:path';
import { Annotations, Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** The copied `lib/` folder: stack frames inside it say where a check ran, not where the user wrote the construct. */
const LIBRARY_ROOT = path.join(__dirname, '..') + path.sep;

/**
 * Makes a thrown error read well in any app, not only in one that catches it: its stack keeps the message and the
 * frames of the user's own code (where the construct was written), not those of this library, node_modules or Node.js;
 * and `fields` are set non-enumerable, so Node.js does not print them again as an object after the message.
 */
function readableWhenUncaught(error: Error, fields: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(fields)) Object.defineProperty(error, name, { value, enumerable: false });
  const userFrames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line) && isUserFrame(line));
  error.stack = [`${error.name}: ${error.message}`, ...userFrames].join('\n');
}

/** A stack frame in the user's code: not in this library, a package or Node.js itself. */
function isUserFrame(frame: string): boolean {
  return !frame.includes(LIBRARY_ROOT) && !frame.includes(`${path.sep}node_modules${path.sep}`) && !/(^|\(|at )node:/.test(frame);
}

/** One problem found in a construct's props: a stable code to search for, and what to change. */
export interface ValidationProblem {
  /** Stable identifier, e.g. `QueueWithDlq.FifoDlqMismatch`; tests and docs refer to it. */
  readonly code: string;
  /** What is wrong and how to fix it, in one sentence. */
  readonly message: string;
}

/**
 * Thrown at synth when a construct's props are invalid. Lists every problem of that construct at once,
 * so a user fixes them in one pass instead of one synth per mistake.
 */
export class ConstructValidationError extends Error {
  /** Path of the construct whose props are invalid, e.g. `SqsLab/Work`. */
  declare readonly constructPath: string;
  declare readonly problems: readonly ValidationProblem[];

  constructor(constructPath: string, problems: readonly ValidationProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      `${constructPath}: ${count} in props:\n` + problems.map((p) => `  - [${p.code}] ${p.message}`).join('\n'),
    );
    this.name = 'ConstructValidationError';
    readableWhenUncaught(this, { constructPath, problems });
  }
}

/**
 * Collects the problems of one construct, then throws them together.
 *
 * ```ts
 * const check = new PropsValidator(this, 'QueueWithDlq');
 * check.require(props.maxReceiveCount >= 1, 'MaxReceiveCount', 'maxReceiveCount must be at least 1');
 * check.throwIfInvalid();
 * ```
 */
export class PropsValidator {
  private readonly problems: ValidationProblem[] = [];

  constructor(
    private readonly scope: Construct,
    /** Prefix of every code this validator reports: the construct's class name. */
    private readonly codePrefix: string,
  ) {}

  /** Records a problem unless `condition` holds. */
  require(condition: boolean, code: string, message: string): void {
    if (!condition) this.problems.push({ code: `${this.codePrefix}.${code}`, message });
  }

  /**
   * Records `<prefix>.<code>` unless `value` lies within `range`, both ends included, and is a whole number when
   * `whole` (NaN is never within). The one place a limit's edges are compared: every construct accepts its minimum and
   * its maximum, and refuses one unit beyond. An undefined value (a prop left out) is not checked.
   */
  inRange(value: number | undefined, range: { min?: number; max?: number; whole?: boolean }, code: string, message: string): void {
    if (value === undefined) return;
    const whole = !range.whole || Number.isInteger(value);
    this.require(whole && value >= (range.min ?? -Infinity) && value <= (range.max ?? Infinity), code, message);
  }

  /**
   * A soft problem: a synth warning, which fails strict synth until acknowledged next to the construct with
   * `Validations.of(construct).acknowledge({ id: 'Annotation::<prefix>.<code>', reason })`.
   */
  warnUnless(condition: boolean, code: string, message: string): void {
    if (condition) return;
    const id = `${this.codePrefix}.${code}`;
    Annotations.of(this.scope).addWarningV2(id, message);
    // CDK traces a warning from the line that adds it, and the CLI shows that frame as where the warning comes from:
    // this file. Keep the frames of the user's code instead, so the CLI points at the line that wrote the construct.
    const entry = [...this.scope.node.metadata].reverse().find((e) => e.data === `${message} [ack: ${id}]`) as { trace?: string[] } | undefined;
    if (entry?.trace) entry.trace = entry.trace.filter(isUserFrame);
  }

  /**
   * A duration in seconds, for a CloudFormation property that takes seconds. Never throws CDK's own unscoped error:
   * a duration that is not a whole number of seconds (`Duration.millis(1500)`) is recorded as `<prefix>.NotWholeSeconds`
   * with the others, unless `integral: false`. A token is known only at deploy time: it returns undefined (range checks
   * are skipped), and renders only in the unit the property takes (`tokenUnit`, seconds unless told), so a token in
   * another unit (`Duration.minutes(token)` for seconds) is recorded as `<prefix>.TokenNotIn<Unit>`.
   */
  seconds(
    duration: Duration | undefined,
    propName: string,
    options: { integral?: boolean; tokenUnit?: 'millis' | 'seconds' | 'minutes' | 'days' } = {},
  ): number | undefined {
    if (duration === undefined) return undefined;
    if (duration.isUnresolved()) {
      const tokenUnit = options.tokenUnit ?? 'seconds';
      const factory = { millis: 'Duration.millis', seconds: 'Duration.seconds', minutes: 'Duration.minutes', days: 'Duration.days' }[tokenUnit];
      this.require(
        duration.unitLabel() === tokenUnit,
        `TokenNotIn${pascal(tokenUnit)}`,
        `${propName} is a token in ${duration.unitLabel()}, which cannot be converted at synth: give it as ${factory}(token)`,
      );
      return undefined;
    }
    const exact = duration.toSeconds({ integral: false });
    if ((options.integral ?? true) && !Number.isInteger(exact)) {
      this.require(false, 'NotWholeSeconds', `${propName} must be a whole number of seconds, got ${exact} s`);
      return Math.ceil(exact);
    }
    return exact;
  }

  /**
   * "Bring your own or let me create it": `existing` (an existing resource) and `createProps` (settings of the one
   * the construct creates) exclude each other. Giving both is `<prefix>.<Existing>And<CreateProps>`,
   * e.g. `FanOut.QueueAndQueueProps`.
   */
  existingOrProps(existing: unknown, createProps: unknown, names: { existing: string; props: string; who?: string }): void {
    const code = `${pascal(names.existing)}And${pascal(names.props)}`;
    const who = names.who ? `${names.who}: ` : '';
    this.require(
      existing === undefined || createProps === undefined,
      code,
      `${who}give either ${names.existing} (an existing resource) or ${names.props} (for the one to create), not both`,
    );
  }

  throwIfInvalid(): void {
    if (this.problems.length > 0) throw new ConstructValidationError(this.scope.node.path, this.problems);
  }
}

/**
 * A duration given as `Duration.seconds(token)`, as the token number that renders in a property taking seconds;
 * undefined for anything else (a resolved duration goes through `PropsValidator.seconds`, which also reports a token in
 * another unit).
 */
export function tokenInSeconds(duration: Duration | undefined): number | undefined {
  return duration?.isUnresolved() && duration.unitLabel() === 'seconds' ? duration.toSeconds() : undefined;
}

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/**
 * Thrown when a construct's method is used wrongly (asked for a subscriber it does not have, called before the
 * part it reads exists): a misuse of the API, not a problem in props. Carries the construct path and a stable code.
 */
export class ConstructUsageError extends Error {
  declare readonly constructPath: string;
  /** Stable identifier, e.g. `FanOut.UnknownSubscriber`. */
  declare readonly code: string;

  constructor(constructPath: string, code: string, message: string) {
    super(`${constructPath}: [${code}] ${message}`);
    this.name = 'ConstructUsageError';
    readableWhenUncaught(this, { constructPath, code });
  }
}
