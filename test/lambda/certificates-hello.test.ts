import { handler } from '../../lambda/certificates-hello';

test('answers 200 with JSON naming the domain the client asked for', async () => {
  const response = await handler({ requestContext: { domainName: 'api.example.com' } });
  expect(response).toEqual({
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'hello over TLS', domainName: 'api.example.com' }),
  });
});
