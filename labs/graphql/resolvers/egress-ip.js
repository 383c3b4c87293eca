// Query.egressIp (HTTP data source): GET https://checkip.amazonaws.com/, whose body is the caller's public IP.
import { util } from '@aws-appsync/utils';

export function request() {
  return { method: 'GET', resourcePath: '/', params: { headers: { accept: 'text/plain' } } };
}

export function response(ctx) {
  if (ctx.error) util.error(ctx.error.message, ctx.error.type);
  if (ctx.result.statusCode !== 200) util.error(`checkip answered ${ctx.result.statusCode}`, 'HttpError');
  return ctx.result.body.trim();
}
