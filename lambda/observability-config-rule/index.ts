import { ComplianceType, ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';

/**
 * A custom AWS Config rule (Lambda): a Lambda function complies when its X-Ray tracing mode is Active. Config invokes
 * it with each configuration item of the functions in the rule's scope; it answers with PutEvaluations.
 */
const config = new ConfigServiceClient({});

/** The part of a configuration item this rule reads. */
export interface ConfigurationItem {
  resourceType: string;
  resourceId: string;
  configurationItemCaptureTime: string;
  configurationItemStatus: string;
  configuration?: { tracingConfig?: { mode?: string } } | null;
}

/** What Config sends a custom Lambda rule (the parts read here). */
export interface ConfigRuleEvent {
  invokingEvent: string;
  resultToken: string;
  eventLeftScope?: boolean;
  configRuleName?: string;
}

interface InvokingEvent {
  messageType: string;
  configurationItem?: ConfigurationItem;
}

export interface Verdict {
  compliance: ComplianceType;
  annotation: string;
}

const DELETED = new Set(['ResourceDeleted', 'ResourceDeletedNotRecorded']);

/** The rule itself, on one configuration item. */
export function evaluate(item: ConfigurationItem, eventLeftScope = false): Verdict {
  if (eventLeftScope || DELETED.has(item.configurationItemStatus) || item.resourceType !== 'AWS::Lambda::Function') {
    return { compliance: ComplianceType.Not_Applicable, annotation: 'not a recorded Lambda function in scope' };
  }
  const mode = item.configuration?.tracingConfig?.mode ?? 'PassThrough';
  return mode === 'Active'
    ? { compliance: ComplianceType.Compliant, annotation: 'X-Ray tracing is Active' }
    : { compliance: ComplianceType.Non_Compliant, annotation: `X-Ray tracing is ${mode}, expected Active` };
}

export async function handler(event: ConfigRuleEvent): Promise<Verdict | undefined> {
  const invoking = JSON.parse(event.invokingEvent) as InvokingEvent;
  const item = invoking.configurationItem;
  // Oversized items and scheduled notifications carry no item: this rule is change-triggered on small items only.
  if (invoking.messageType !== 'ConfigurationItemChangeNotification' || !item) return undefined;
  const verdict = evaluate(item, event.eventLeftScope ?? false);
  await config.send(
    new PutEvaluationsCommand({
      ResultToken: event.resultToken,
      Evaluations: [
        {
          ComplianceResourceType: item.resourceType,
          ComplianceResourceId: item.resourceId,
          ComplianceType: verdict.compliance,
          Annotation: verdict.annotation,
          OrderingTimestamp: new Date(item.configurationItemCaptureTime),
        },
      ],
    }),
  );
  console.log(JSON.stringify({ event: 'evaluated', resourceId: item.resourceId, ...verdict }));
  return verdict;
}
