/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */

/** Names and figures the exercise, the tests and the README rely on. */
export const MODELLING_LAB = {
  /** Local secondary index: a customer's orders by status and date (same partition key, another sort key). */
  lsiName: 'ByStatusDate',
  /** Global secondary index: every customer's orders in one status, by date (another partition key). */
  gsiName: 'ByStatus',
  ttlAttribute: 'expiresAt',
  /** Session tag whose value a tenant's partition key must equal. */
  tenantTag: 'customerId',
  /** Provisioned table: auto scaling between these capacity units, aiming at this utilization. */
  autoScaling: { minCapacity: 1, maxCapacity: 10, targetUtilizationPercent: 70 },
  /** Replica Region when `-c dynamodb-modelling:replicaRegion=<region>` is not given. */
  defaultReplicaRegion: 'us-west-2',
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** The query step reads the GSI, which lags the table for a moment after the seed, up to this many times. */
    gsiReadAttempts: 10,
    /** The pause between two of those reads. */
    gsiRetryPauseSeconds: 1,
  },
} as const;
