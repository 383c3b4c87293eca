// Imported first by the exercise test: the worker's logger and metrics read these when their module loads, and the
// exercise reads the worker's log lines, which the quiet test default (SILENT) would drop.
import { OBSERVABILITY_LAB } from '../../../labs/observability/constants';

Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: 'INFO',
  POWERTOOLS_METRICS_NAMESPACE: OBSERVABILITY_LAB.namespace,
  POWERTOOLS_SERVICE_NAME: OBSERVABILITY_LAB.serviceName,
  BUCKET_NAME: 'lab-bucket',
});
