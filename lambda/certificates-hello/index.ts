/** The certificates lab's HTTP API: answers on the custom domain with the custom domain name the request came in on. */
interface HttpApiEvent {
  readonly requestContext: { readonly domainName: string };
}

export async function handler(event: HttpApiEvent): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'hello over TLS', domainName: event.requestContext.domainName }),
  };
}
