/**
 * The mapping templates (Velocity Template Language) of the apigateway lab's non-proxy and mock integrations. They
 * live here so the stack and the tests use the same text: the tests render them with a VTL engine.
 *
 * Method request → [request template] → integration request → backend → integration response
 * → [response template chosen by selection pattern] → method response.
 */

/**
 * Builds the orders backend's event from the validated body and the request context. `$input.json` copies body
 * values as JSON; a claim is a plain string, so it goes through `$util.escapeJavaScript`, whose `\'` for an
 * apostrophe is not valid JSON: `.replaceAll("\\'","'")` (a Java regex) undoes it, as the API Gateway docs advise.
 */
export const ORDER_REQUEST_TEMPLATE = String.raw`{
  "item": $input.json('$.item'),
  "quantity": $input.json('$.quantity'),
  "customer": "$util.escapeJavaScript($context.authorizer.claims.email).replaceAll("\\'","'")",
  "requestId": "$context.requestId",
  "stage": "$context.stage",
  "sourceIp": "$context.identity.sourceIp"
}`;

/** Reshapes the backend's order for the client: only some fields, and a link. */
export const ORDER_RESPONSE_TEMPLATE = `{
  "orderId": $input.json('$.orderId'),
  "item": $input.json('$.item'),
  "quantity": $input.json('$.quantity'),
  "totalCents": $input.json('$.totalCents'),
  "customer": $input.json('$.customer'),
  "links": { "self": "/orders/$input.path('$.orderId')" }
}`;

/** A Lambda error, mapped to a client-facing message; `errorMessage` is what the selection pattern matched. */
export const ORDER_ERROR_TEMPLATE = `{ "message": $input.json('$.errorMessage') }`;

/** Selection patterns (Java regular expressions) matched against a Lambda error's `errorMessage`. */
export const ORDER_ERROR_PATTERNS = {
  badRequest: '^(BadRequest|UnknownItem):.*',
  conflict: '^OutOfStock:.*',
  /** Any other error: without it, an unexpected error would reach the client as a 200 with the error JSON. */
  other: '^(?!BadRequest:|UnknownItem:|OutOfStock:)[\\s\\S]+',
} as const;

/** The mock integration's request template: it picks the integration response (no backend is called). */
export const HEALTH_REQUEST_TEMPLATE = '{ "statusCode": 200 }';

/** The mock integration's response, filled from the request context. */
export const HEALTH_RESPONSE_TEMPLATE = `{
  "status": "ok",
  "stage": "$context.stage",
  "requestId": "$context.requestId",
  "requestTime": "$context.requestTime"
}`;

/**
 * Gateway response for a body the model rejects: says what is wrong instead of "Invalid request body". The
 * validator's message quotes property names (`["quantity"]`), so it is escaped to stay valid JSON.
 */
export const BAD_REQUEST_BODY_TEMPLATE = String.raw`{ "message": "$util.escapeJavaScript($context.error.validationErrorString).replaceAll("\\'","'")" }`;

/** The JSON schema (draft 4) of POST /orders bodies, enforced by API Gateway before the backend is called. */
export const ORDER_REQUEST_SCHEMA = {
  title: 'OrderRequest',
  type: 'object',
  required: ['item', 'quantity'],
  additionalProperties: false,
  properties: {
    item: { type: 'string', minLength: 1, maxLength: 40 },
    quantity: { type: 'integer', minimum: 1, maximum: 100 },
  },
} as const;
