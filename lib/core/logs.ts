import * as logs from 'aws-cdk-lib/aws-logs';

/** Settings of a log group a construct creates (`logGroupProps`), when no existing `logGroup` is given. */
export interface CreatedLogGroupProps {
  /** How long the log group keeps its events. @default one month */
  readonly retention?: logs.RetentionDays;
}

/** Retention of the log groups constructs create, unless told otherwise. */
export const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;
