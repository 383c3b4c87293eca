'use strict';
/** The container health check (task definition and Dockerfile): exit 0 when GET /health answers 200 within 2 s. */
const port = Number(process.env.PORT ?? 8080);
fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) }).then(
  (response) => process.exit(response.status === 200 ? 0 : 1),
  () => process.exit(1),
);
