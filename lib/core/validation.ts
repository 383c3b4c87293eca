import { Annotations } from 'aws-cdk-lib';
import { Construct } from 'constructs';

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
  constructor(
    /** Path of the construct whose props are invalid, e.g. `SqsLab/Work`. */
    public readonly constructPath: string,
    public readonly problems: readonly ValidationProblem[],
  ) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      `${constructPath}: ${count} in props:\n` + problems.map((p) => `  - [${p.code}] ${p.message}`).join('\n'),
    );
    this.name = 'ConstructValidationError';
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
   * A soft problem: a synth warning, which fails strict synth until acknowledged next to the construct with
   * `Validations.of(construct).acknowledge({ id: 'Annotation::<prefix>.<code>', reason })`.
   */
  warnUnless(condition: boolean, code: string, message: string): void {
    if (!condition) Annotations.of(this.scope).addWarningV2(`${this.codePrefix}.${code}`, message);
  }

  throwIfInvalid(): void {
    if (this.problems.length > 0) throw new ConstructValidationError(this.scope.node.path, this.problems);
  }
}
