import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** Credentials of an assumed role session, as STS AssumeRole returns them. */
export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** What the domain answered: the HTTP status and the JSON body (or the text, when it is not JSON). */
export interface SearchResponse {
  readonly status: number;
  readonly body: unknown;
}

/**
 * The OpenSearch REST API of a domain, over HTTPS, each request signed with SigV4 for the service `es`: what the
 * opensearch-js client's AwsSigv4Signer does, without installing it for the five requests of the exercise.
 * Without credentials, requests go unsigned: what an anonymous caller on the internet sends.
 */
export class SearchApi {
  constructor(
    private readonly endpoint: string,
    private readonly region: string,
    private readonly credentials?: SessionCredentials,
  ) {}

  async request(method: 'GET' | 'PUT' | 'POST', path: string, body?: object): Promise<SearchResponse> {
    const url = new URL(path, this.endpoint);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = { host: url.host, ...(payload ? { 'content-type': 'application/json' } : {}) };
    if (this.credentials) {
      const signer = new SignatureV4({ credentials: this.credentials, region: this.region, service: 'es', sha256: Sha256 });
      const signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query: {},
        headers,
        body: payload,
      });
      headers = signed.headers;
    }
    // fetch sets Host itself from the URL, to the value that was signed.
    const sent = Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'host'));
    const response = await fetch(url, { method, headers: sent, body: payload });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON (an HTML error page of a proxy, an empty body): keep the text for the message.
    }
    return { status: response.status, body: parsed };
  }
}

/** The region of an ARN (`arn:aws:es:us-east-1:123456789012:domain/...`). */
export const regionOfArn = (arn: string) => arn.split(':')[3];
