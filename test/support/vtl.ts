import { render } from 'velocityjs';

/**
 * Renders an API Gateway mapping template with velocityjs (a Velocity engine) and a small shim for the variables
 * API Gateway provides. The shim covers what the lab's templates use, no more:
 * - `$input.body`, `$input.json(path)`, `$input.path(path)`, `$input.params(name)` with JSONPath limited to `$`,
 *   `$.a.b` and `$.a[0]`;
 * - `$util.escapeJavaScript` (which, like API Gateway's, escapes `'` as `\'`), `$util.parseJson`, `$util.urlEncode`,
 *   `$util.base64Encode/Decode`;
 * - Java's `String.replaceAll(regex, replacement)` on strings (velocityjs would call JavaScript's, which is literal);
 * - `$context` and `$stageVariables` as plain objects supplied by the test.
 * Where API Gateway differs in ways the shim does not model (e.g. Java string escaping corner cases), tests check the
 * rendered result as JSON, which both engines must produce.
 */
export interface MappingInput {
  /** The request (or integration response) body, as text. */
  readonly body?: string;
  readonly context?: Record<string, unknown>;
  readonly stageVariables?: Record<string, string>;
  readonly params?: { path?: Record<string, string>; querystring?: Record<string, string>; header?: Record<string, string> };
}

function jsonPath(document: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`unsupported JSONPath ${path}`);
  const steps = path.slice(1).match(/\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]/g) ?? [];
  if (steps.join('') !== path.slice(1)) throw new Error(`unsupported JSONPath ${path}: only $.a.b and $.a[0] are modelled`);
  let value = document;
  for (const step of steps) {
    if (value === null || value === undefined) return undefined;
    value = step.startsWith('[') ? (value as unknown[])[Number(step.slice(1, -1))] : (value as Record<string, unknown>)[step.slice(1)];
  }
  return value;
}

/** API Gateway's $util.escapeJavaScript: escapes quotes, backslashes and control characters for a JSON/JS string. */
export function escapeJavaScript(text: unknown): string {
  return JSON.stringify(String(text ?? '')).slice(1, -1).replace(/'/g, "\\'");
}

export function renderMappingTemplate(template: string, input: MappingInput = {}): string {
  const text = input.body ?? '';
  const document = (): unknown => (text.trim() === '' ? {} : JSON.parse(text));
  const $input = {
    body: text,
    json: (path: string) => JSON.stringify(jsonPath(document(), path) ?? null),
    path: (path: string) => jsonPath(document(), path),
    params: (name?: string) => {
      const params = input.params ?? {};
      if (name === undefined) return params;
      return params.path?.[name] ?? params.querystring?.[name] ?? params.header?.[name] ?? '';
    },
  };
  const $util = {
    escapeJavaScript,
    parseJson: (json: string) => JSON.parse(json),
    urlEncode: (s: string) => encodeURIComponent(s),
    base64Encode: (s: string) => Buffer.from(s, 'utf8').toString('base64'),
    base64Decode: (s: string) => Buffer.from(s, 'base64').toString('utf8'),
  };
  const javaReplaceAll = {
    uid: 'java-string-replaceAll',
    match: ({ property, context }: { property: string; context: unknown }) => property === 'replaceAll' && typeof context === 'string',
    resolve: ({ context, params }: { context: string; params: string[] }) => context.replace(new RegExp(params[0], 'g'), params[1]),
  };
  return render(
    template,
    { input: $input, util: $util, context: input.context ?? {}, stageVariables: input.stageVariables ?? {} },
    {},
    { customMethodHandlers: [javaReplaceAll] },
  );
}

/** Renders a template and parses the result: fails the test if the template produced invalid JSON. */
export function renderJson(template: string, input: MappingInput = {}): Record<string, unknown> {
  const rendered = renderMappingTemplate(template, input);
  try {
    return JSON.parse(rendered) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`the template rendered invalid JSON (${(error as Error).message}):\n${rendered}`, { cause: error });
  }
}
