import type { LabDefinition } from '../../../labs/support/define-lab';
import type { CfnTemplate } from '../../../labs/support/diagram';
import { featureTemplates, optionalPartPaths } from '../../../labs/support/optional-parts';

/** Only what the functions read of a lab: its stack name and whether it has optional parts. */
const labWith = (featureNames: string[]) => ({ stackName: 'QueueLab', features: featureNames.map((name) => ({ name })) }) as unknown as LabDefinition;
const templateOf = (paths: Record<string, string>): CfnTemplate => ({
  Resources: Object.fromEntries(Object.entries(paths).map(([id, path]) => [id, { Type: 'AWS::SQS::Queue', Metadata: { 'aws:cdk:path': path } }])),
});
const plain = templateOf({ Queue1: 'QueueLab/Queue/Resource' });
const withAlarms = templateOf({ Queue1: 'QueueLab/Queue/Resource', Alarm1: 'QueueLab/Alarms/Depth/Resource', Topic1: 'QueueLab/Alarms/Topic/Resource' });

test('a lab with optional parts is synthesized plain and with every part on', () => {
  const asked: boolean[] = [];
  const templates = featureTemplates(labWith(['alarms']), (allFeatures) => {
    asked.push(allFeatures);
    return allFeatures ? withAlarms : plain;
  });
  expect(asked).toEqual([false, true]);
  expect(templates).toEqual({ plain, withAllFeatures: withAlarms });
});

test('a lab without optional parts is synthesized once, its plain template standing for both', () => {
  const asked: boolean[] = [];
  const templates = featureTemplates(labWith([]), (allFeatures) => {
    asked.push(allFeatures);
    return plain;
  });
  expect(asked).toEqual([false]);
  expect(templates.withAllFeatures).toBe(templates.plain);
});

test('the optional parts are the construct paths only the template with every part on has', () => {
  expect([...optionalPartPaths(labWith(['alarms']), { plain, withAllFeatures: withAlarms })]).toEqual(['Alarms/Depth', 'Alarms/Topic']);
  expect([...optionalPartPaths(labWith([]), { plain, withAllFeatures: plain })]).toEqual([]);
});
