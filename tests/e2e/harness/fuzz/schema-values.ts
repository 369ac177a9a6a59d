// Values a JSON Schema of the served OpenAPI document accepts, or nearly: what a client that read
// the document would send. Lengths and counts are kept small (the hostile sizes are the mutations'
// business), and a UUID is often one the deployment knows, so a request reaches rows that exist.
import fc from 'fast-check';

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  example?: unknown;
}

export interface SchemaContext {
  /** The schema a `$ref` of the document names. */
  resolve(ref: string): JsonSchema;
  /** For `format: uuid`: an id placeholder (see known-ids.ts) or any UUID. */
  uuid: fc.Arbitrary<string>;
}

/** Deep enough for every schema of the document; a cycle stops here instead of overflowing. */
const maxDepth = 8;

/**
 * A `pattern` as a RegExp. The document writes a regex's flags after its source (`^[^\p{Cc}]*$/u`),
 * which as JSON Schema would demand a literal "/u" at the end; the flags are read back here.
 */
function patternOf(pattern: string): RegExp | undefined {
  const flagged = /^(.*\$)\/([dgimsuvy]+)$/.exec(pattern);
  try {
    return flagged ? new RegExp(flagged[1] ?? '', flagged[2]) : new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
}

function stringValues(schema: JsonSchema, context: SchemaContext): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? 40, 60));
  switch (schema.format) {
    case 'uuid':
      return context.uuid;
    case 'email':
      return fc.emailAddress().filter((email) => email.length <= (schema.maxLength ?? 254));
    case 'date-time':
      return fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((date) => date.toISOString());
    case 'uri':
      return fc.webUrl();
    case 'binary':
      return fc.string({ maxLength });
  }
  const pattern = schema.pattern === undefined ? undefined : patternOf(schema.pattern);
  if (pattern !== undefined) {
    const longest = schema.maxLength ?? Number.POSITIVE_INFINITY;
    return fc
      .stringMatching(pattern)
      .filter((text) => text.length >= minLength && text.length <= longest);
  }
  return fc.string({
    minLength,
    maxLength,
    unit: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789 -_.') },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
    ),
  });
}

function numberValues(schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const lowest =
    schema.minimum ??
    (schema.exclusiveMinimum === undefined ? -1_000 : schema.exclusiveMinimum + 1);
  const highest =
    schema.maximum ??
    (schema.exclusiveMaximum === undefined ? lowest + 1_000_000 : schema.exclusiveMaximum - 1);
  return integer
    ? fc.integer({ min: Math.ceil(lowest), max: Math.floor(highest) })
    : fc.double({ min: lowest, max: highest, noNaN: true, noDefaultInfinity: true });
}

function objectValues(
  schema: JsonSchema,
  context: SchemaContext,
  depth: number,
): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, property] of Object.entries(properties)) {
    model[name] = valuesOf(property, context, depth + 1);
  }
  return fc.record(model, { requiredKeys: schema.required ?? [] });
}

function typedValues(
  type: string,
  schema: JsonSchema,
  context: SchemaContext,
  depth: number,
): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return stringValues(schema, context);
    case 'integer':
      return numberValues(schema, true);
    case 'number':
      return numberValues(schema, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      return fc.array(valuesOf(schema.items ?? {}, context, depth + 1), {
        minLength,
        maxLength: Math.max(minLength, Math.min(schema.maxItems ?? 4, 4)),
      });
    }
    case 'object':
      return objectValues(schema, context, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** What `schema` accepts (its example among them), or a small JSON value where it says nothing. */
export function valuesOf(
  schema: JsonSchema,
  context: SchemaContext,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (depth > maxDepth) return fc.constant(null);
  if (schema.$ref !== undefined) return valuesOf(context.resolve(schema.$ref), context, depth + 1);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) {
    return fc.oneof(...alternatives.map((choice) => valuesOf(choice, context, depth + 1)));
  }
  if (schema.allOf !== undefined) {
    return fc
      .tuple(...schema.allOf.map((part) => valuesOf(part, context, depth + 1)))
      .map((parts) => Object.assign({}, ...parts.filter((part) => typeof part === 'object')));
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type ?? inferredType(schema)];
  const generated = fc.oneof(...types.map((type) => typedValues(type, schema, context, depth)));
  if (schema.example === undefined) return generated;
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(schema.example) },
    { weight: 3, arbitrary: generated },
  );
}

/** A schema without `type`: an object by its properties, an array by its items, else anything. */
function inferredType(schema: JsonSchema): string {
  if (schema.properties !== undefined) return 'object';
  if (schema.items !== undefined) return 'array';
  return 'any';
}
