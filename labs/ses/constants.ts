/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */

/** The mailbox simulator: SES accepts mail to these addresses in the sandbox too, and none of it hurts your reputation. */
export const SIMULATOR_DOMAIN = 'simulator.amazonses.com';

/** A simulator address with a label (`bounce+<label>@...`), so the events of one run are told apart from older ones. */
export const simulatorAddress = (outcome: 'success' | 'bounce' | 'complaint' | 'suppressionlist', label: string) =>
  `${outcome}+${label}@${SIMULATOR_DOMAIN}`;

export const SES_LAB = {
  /** Where received mail is stored in the inbound bucket. */
  inboundPrefix: 'inbound/',
  /** How long received mail stays in the bucket, in days. */
  inboundRetentionDays: 7,
  /** The sandbox's quotas, which GetAccount shows until production access is granted. */
  sandboxQuota: { max24HourSend: 200, maxSendRate: 1 },
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** How long the events step waits for the bounce and complaint records before failing, saying which are missing. */
    feedbackDeadlineSeconds: 180,
    /** Pause between two reads of the suppression table or the inbound bucket. */
    pollIntervalSeconds: 5,
    /** How long the receiving step waits for its mail in the bucket. */
    inboundDeadlineSeconds: 180,
  },
} as const;
