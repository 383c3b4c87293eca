/**
 * Calls an AppSync GraphQL endpoint over HTTPS with one of its authorization modes: what each mode puts in the
 * request. API_KEY sends `x-api-key`; user pools, OIDC and Lambda send `Authorization: <token>`; AWS_IAM signs the
 * request with SigV4 (service `appsync`). AppSync picks the mode from what the request carries.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

export type GraphqlAuth =
  | { readonly mode: 'API_KEY'; readonly apiKey: string }
  | { readonly mode: 'AMAZON_COGNITO_USER_POOLS' | 'OPENID_CONNECT' | 'AWS_LAMBDA'; readonly token: string }
  | { readonly mode: 'AWS_IAM'; readonly credentials: AwsCredentialIdentity; readonly region: string };

export interface GraphqlError {
  readonly message: string;
  readonly errorType?: string;
  readonly path?: readonly (string | number)[];
}

export interface GraphqlResponse<T = Record<string, unknown>> {
  /** The HTTP status: 200 even when fields failed (see errors); 401 when no mode accepted the request. */
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: readonly GraphqlError[];
}

/** The headers that authorize `body` sent to `url` with `auth`, besides content-type and host. */
export async function authorizationHeaders(url: string, auth: GraphqlAuth, body: string): Promise<Record<string, string>> {
  if (auth.mode === 'API_KEY') return { 'x-api-key': auth.apiKey };
  if (auth.mode !== 'AWS_IAM') return { authorization: auth.token };
  const target = new URL(url);
  const signer = new SignatureV4({ service: 'appsync', region: auth.region, credentials: auth.credentials, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname,
    port: target.port ? Number(target.port) : undefined,
    path: target.pathname,
    headers: { 'content-type': 'application/json', host: target.host },
    body,
  });
  // fetch sends host and content-type itself; the rest (authorization, x-amz-date, x-amz-security-token) is the signature.
  return Object.fromEntries(Object.entries(signed.headers).filter(([name]) => !['host', 'content-type'].includes(name)));
}

/** POSTs one operation and returns status, data and errors as AppSync sent them (GraphQL errors are not thrown). */
export async function graphqlRequest<T = Record<string, unknown>>(
  url: string,
  auth: GraphqlAuth,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphqlResponse<T>> {
  const body = JSON.stringify({ query, variables });
  const headers = { 'content-type': 'application/json', ...(await authorizationHeaders(url, auth, body)) };
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let parsed: { data?: T | null; errors?: GraphqlError[] } = {};
  try {
    parsed = text ? (JSON.parse(text) as typeof parsed) : {};
  } catch {
    parsed = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
  }
  return { status: response.status, data: parsed.data, errors: parsed.errors };
}

/** The errorTypes of a response, for checks and what a step prints. */
export const errorTypes = (response: GraphqlResponse<unknown>): string[] =>
  (response.errors ?? []).map((error) => error.errorType ?? error.message);
