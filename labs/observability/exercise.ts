/**
 * The observability exercise. Steps live in ./exercise/, one file per theme; the worker's invocation they share (and
 * the run's orders it handles) is a fixture of ./exercise/fixtures.ts, made by the first step that asks for it.
 */
import type { ExerciseStep } from '../support/exercise';
import { cloudTrail, configRules } from './exercise/audit';
import { buildEvents } from './exercise/events';
import { logs } from './exercise/logs';
import { alarms, customMetrics, dashboard, embeddedMetrics } from './exercise/metrics';
import { xray } from './exercise/tracing';

export { runOrders, timing } from './exercise/fixtures';

export const steps: readonly ExerciseStep[] = [
  { id: 'emf', title: 'EMF metrics from the worker, read back with GetMetricData', run: embeddedMetrics },
  { id: 'custom-metrics', title: 'PutMetricData: a single value, a high-resolution statistic set', run: customMetrics },
  { id: 'alarms', title: 'M of N, missing data, metric math, SetAlarmState, composite alarm and Lambda action', run: alarms },
  { id: 'logs', title: 'metric filter, subscription filter, saved Logs Insights query, Infrequent Access', run: logs },
  { id: 'dashboard', title: 'the dashboard graphs the lab\'s metrics and alarms', run: dashboard },
  { id: 'xray', title: 'the X-Ray environment variables, the trace, the sampling rule and the group', run: xray },
  { id: 'cloudtrail', title: 'find this run\'s API call in CloudTrail event history; the trail\'s settings', run: cloudTrail },
  { id: 'config', title: 'make the worker non-compliant and read the Config rule\'s evaluation', run: configRules },
  { id: 'events', title: 'the EventBridge rule matches failed CodeBuild builds only', run: buildEvents },
];
