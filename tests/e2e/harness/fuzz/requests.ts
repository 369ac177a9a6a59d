// Requests for every operation of the served OpenAPI document: its path parameters of every shape,
// its query parameters wrong, huge, repeated and unknown, its body from the operation's schema
// (valid, broken field by field, or not JSON at all) under the right and wrong content types, odd
// methods and odd headers, and a credential from none to an administrator's. Each request is
// generated from the run's seed and its own id (`POST /v1/products#17`) alone, so any one of them
// can be generated again without the others.
import fc from 'fast-check';
import { rawBoundary, rawMultipart } from '../multipart.ts';
import {
  encodeText,
  extraKey,
  headerText,
  hostileBytes,
  hostileJsonText,
  hostileQueryValue,
  hostileSegment,
  hostileText,
  hugeArray,
  hugeString,
  junkApiKey,
  junkAuthorization,
  oddHeader,
  oversizedJson,
  unknownQueryName,
  wrongTypeValue,
} from './hostile.ts';
import { anyResource, knownId } from './known-ids.ts';
import { type JsonSchema, type SchemaContext, valuesOf } from './schema-values.ts';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema?: JsonSchema;
}

interface DocumentOperation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  security?: Record<string, string[]>[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, DocumentOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** How a request that is signed rather than authenticated gets a valid signature, if it can. */
export type Signing = 'partnerHmac' | 'signedUrl' | 'unsignable';

export interface Operation {
  /** `POST /v1/products/{id}`: the document's method and path. */
  key: string;
  method: string;
  path: string;
  parameters: Parameter[];
  body?: { mediaType: string; schema: JsonSchema };
  signing?: Signing;
}

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

function signingOf(operation: DocumentOperation): Signing | undefined {
  const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
  if (schemes.includes('partnerHmac')) return 'partnerHmac';
  if (schemes.includes('signedUrl')) return 'signedUrl';
  // A QStash delivery that verifies runs a real job, whose failure answers 5xx by design (QStash
  // retries it): only its refusals are fuzzed.
  if (schemes.includes('qstashSignature')) return 'unsignable';
  return undefined;
}

/** Every operation of the document, in its order. */
export function operationsOf(document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    methods.flatMap((method) => {
      const operation = item[method];
      if (operation === undefined) return [];
      const [mediaType, content] = Object.entries(operation.requestBody?.content ?? {})[0] ?? [];
      const signing = signingOf(operation);
      return [
        {
          key: `${method.toUpperCase()} ${path}`,
          method: method.toUpperCase(),
          path,
          parameters: operation.parameters ?? [],
          ...(mediaType !== undefined && { body: { mediaType, schema: content?.schema ?? {} } }),
          ...(signing !== undefined && { signing }),
        },
      ];
    }),
  );
}

/**
 * Whose credentials a request carries, put in place when it is sent: none, a user's (session,
 * API key or cookies), an administrator's (session or key), a junk one, or a valid signature.
 */
export type Credential =
  | 'none'
  | 'user'
  | 'userKey'
  | 'userCookie'
  | 'admin'
  | 'adminKey'
  | 'junk'
  | 'signature';

/** Which address the request comes from: one of many, the one over its limits, or a junk one. */
export type ClientAddress = { address: number } | 'hot' | { header: string | undefined };

export interface FuzzRequest {
  /** `POST /v1/products#17`: the operation and the request's number, which with the seed make it. */
  id: string;
  method: string;
  /** Path and query as written in the URL, known ids still as placeholders. */
  target: string;
  headers: [string, string][];
  credential: Credential;
  /** Which of the actor's sessions a session credential is. */
  session: number;
  client: ClientAddress;
  body?: string | Uint8Array<ArrayBuffer>;
}

const clientAddresses = 400;

const bodyless = new Set(['GET', 'HEAD', 'TRACE']);

// Methods workerd knows. One it does not (`FUZZ`, or `patch`: methods are case-sensitive) is
// answered 501 by workerd itself, before any code of the Worker runs.
const oddMethods = [
  'PROPFIND',
  'TRACE',
  'OPTIONS',
  'HEAD',
  'GET',
  'PATCH',
  'PUT',
  'DELETE',
  'POST',
  'MKCOL',
  'PURGE',
];

/** JSON text put where a value goes, as it stands: nesting too deep to build and write as a value. */
class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** JSON.stringify that writes RawJson as it is and `__proto__` as a plain key. */
function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const fields = Object.keys(value).map(
      (key) => `${JSON.stringify(key)}:${jsonText((value as Record<string, unknown>)[key])}`,
    );
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

type Path = (string | number)[];

/** Every place in a JSON value, the value itself first. */
function placesIn(value: unknown, at: Path = []): Path[] {
  const inner =
    typeof value === 'object' && value !== null && !(value instanceof RawJson)
      ? Object.entries(value).flatMap(([key, child]) =>
          placesIn(child, [...at, Array.isArray(value) ? Number(key) : key]),
        )
      : [];
  return [at, ...inner];
}

/** A copy of `value` with the place at `path` replaced (`set`) or removed (`set` undefined). */
function changedAt(
  value: unknown,
  path: Path,
  set: ((old: unknown) => unknown) | undefined,
): unknown {
  if (path.length === 0) return set === undefined ? undefined : set(value);
  const [head, ...rest] = path;
  if (typeof value !== 'object' || value === null || head === undefined) return value;
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && set === undefined) copy.splice(Number(head), 1);
    else copy[Number(head)] = changedAt(copy[Number(head)], rest, set);
    return copy;
  }
  const fields = value as Record<string, unknown>;
  if (rest.length === 0 && set === undefined) {
    const { [head]: _removed, ...kept } = fields;
    return kept;
  }
  return withKey(fields, String(head), changedAt(fields[head], rest, set));
}

/** A key added to an object, `__proto__` included, as an own property. */
function withKey(value: unknown, key: string, added: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const copy = { ...value };
  Object.defineProperty(copy, key, {
    value: added,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

const deepNesting = fc
  .constantFrom(['[', ']'], ['{"a":', '}'])
  .map(([open = '', close = '']) => new RawJson(`${open.repeat(10_000)}0${close.repeat(10_000)}`));

/** A valid value broken at one place: a wrong type, a field gone, a field added, a huge value. */
function brokenValue(valid: unknown): fc.Arbitrary<unknown> {
  const places = placesIn(valid);
  const place = fc.constantFrom(...places);
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(place, wrongTypeValue).map(([at, v]) => changedAt(valid, at, () => v)),
    },
    { weight: 3, arbitrary: place.map((at) => changedAt(valid, at, undefined)) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(place, extraKey, wrongTypeValue)
        .map(([at, key, v]) => changedAt(valid, at, (old) => withKey(old, key, v))),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(place, hostileText).map(([at, v]) => changedAt(valid, at, () => v)),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(place, hugeString).map(([at, v]) => changedAt(valid, at, () => v)),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(place, hugeArray).map(([at, v]) => changedAt(valid, at, () => v)),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(place, deepNesting).map(([at, v]) => changedAt(valid, at, () => v)),
    },
  );
}

const jsonTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON;charset=UTF-8',
];

const otherTypes = [
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/problem+json',
  'application/merge-patch+json',
  'text/json',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  `multipart/form-data; boundary=${rawBoundary}`,
  'application/octet-stream',
  'application/xml',
  'image/jpeg',
  '*/*',
  '',
  ';',
  'application/json, text/plain',
  `application/json; boundary=${'b'.repeat(2_000)}`,
];

interface Body {
  contentType: string | undefined;
  body: string | Uint8Array<ArrayBuffer> | undefined;
}

const contentType = fc.oneof(
  { weight: 7, arbitrary: fc.constantFrom<string | undefined>(...jsonTypes) },
  { weight: 3, arbitrary: fc.constantFrom<string | undefined>(...otherTypes, undefined) },
);

const formText = fc
  .array(fc.tuple(unknownQueryName, hostileQueryValue), { maxLength: 4 })
  .map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('&'));

function jsonBodies(schema: JsonSchema, context: SchemaContext): fc.Arbitrary<Body> {
  const valid = valuesOf(schema, context);
  const text = fc.oneof(
    { weight: 8, arbitrary: valid.map(jsonText) },
    { weight: 8, arbitrary: valid.chain(brokenValue).map(jsonText) },
    { weight: 4, arbitrary: hostileJsonText },
    { weight: 1, arbitrary: oversizedJson },
  );
  return fc.oneof(
    { weight: 12, arbitrary: fc.record({ contentType, body: text }) },
    { weight: 1, arbitrary: fc.record({ contentType, body: hostileBytes }) },
    {
      weight: 1,
      arbitrary: fc.record({
        contentType: fc.constant('application/x-www-form-urlencoded'),
        body: formText,
      }),
    },
    { weight: 1, arbitrary: fc.record({ contentType, body: fc.constant(undefined) }) },
  );
}

const pdfBytes = new TextEncoder().encode('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n');
/** A 1x1 PNG, whole. */
const pngBytes = new Uint8Array(
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  ),
);
const jpegBytes = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0);

const fileContent = fc.oneof(
  fc.constantFrom<Uint8Array | string>(pdfBytes, pngBytes, jpegBytes, '', 'plain text'),
  fc.uint8Array({ maxLength: 2_048 }),
);

/** Multipart bodies: files of every type and none, wrong fields, too many, cut short. */
function multipartBodies(field: string): fc.Arbitrary<Body> {
  const part = fc.record({
    field: fc.oneof(fc.constant(field), fc.constantFrom('files', 'avatar', 'file', '', 'x"y')),
    filename: fc.option(
      fc.oneof(fc.constantFrom('a.pdf', 'photo.png', '../../x.jpg', ''), hostileText),
      { nil: undefined },
    ),
    type: fc.option(fc.constantFrom('application/pdf', 'image/png', 'text/html', ''), {
      nil: undefined,
    }),
    content: fileContent,
  });
  const multipart = fc
    .tuple(
      fc.array(part, { maxLength: 7 }),
      fc.boolean(),
      fc.option(fc.nat(400), { nil: undefined }),
    )
    .map(([parts, unclosed, cutAt]) =>
      rawMultipart(
        parts.map(({ filename, type, ...rest }) => ({
          ...rest,
          ...(filename !== undefined && { filename: headerText(filename).replace(/"/g, '') }),
          ...(type !== undefined && { type }),
        })),
        { unclosed, ...(cutAt !== undefined && { cutAt }) },
      ),
    );
  // Files of allowed types, each a part of the field the route reads: the uploads that succeed.
  const wellFormed = fc
    .array(fc.constantFrom(pdfBytes, pngBytes, jpegBytes), { minLength: 1, maxLength: 5 })
    .map((contents) =>
      rawMultipart(
        contents.map((content, index) => ({ field, filename: `fuzz-${index}`, content })),
      ),
    );
  return fc.oneof(
    { weight: 3, arbitrary: wellFormed },
    { weight: 6, arbitrary: multipart },
    {
      weight: 2,
      arbitrary: fc.record({ contentType, body: fc.oneof(hostileBytes, hostileJsonText) }),
    },
    {
      weight: 1,
      arbitrary: multipart.map(({ body }) => ({ contentType: 'multipart/form-data', body })),
    },
  );
}

function binaryBodies(mediaType: string): fc.Arbitrary<Body> {
  return fc.record({
    contentType: fc.oneof(fc.constant(mediaType), contentType),
    body: fc.oneof(fc.uint8Array({ maxLength: 4_096 }), hostileBytes, hugeString),
  });
}

/** An operation without a body sent one anyway, or (mostly) none. */
const strayBodies: fc.Arbitrary<Body> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ contentType: undefined, body: undefined }) },
  {
    weight: 1,
    arbitrary: fc.record({ contentType, body: fc.oneof(hostileJsonText, hostileBytes) }),
  },
);

function bodiesOf(operation: Operation, context: SchemaContext): fc.Arbitrary<Body> {
  const { body } = operation;
  if (body === undefined) return strayBodies;
  if (body.mediaType === 'application/json') return jsonBodies(body.schema, context);
  if (body.mediaType === 'multipart/form-data') {
    return multipartBodies(Object.keys(body.schema.properties ?? {})[0] ?? 'file');
  }
  return binaryBodies(body.mediaType);
}

/** A path parameter: an id the deployment knows, any value its schema takes, or a hostile one. */
function pathValue(operation: Operation, parameter: Parameter, context: SchemaContext) {
  const segments = operation.path.split('/');
  const resource = segments[segments.indexOf(`{${parameter.name}}`) - 1] ?? anyResource;
  const schemaValue = valuesOf(parameter.schema ?? {}, context).map((value) =>
    encodeText(String(value)),
  );
  return fc.oneof(
    { weight: 5, arbitrary: knownId(resource) },
    { weight: 2, arbitrary: schemaValue },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 3, arbitrary: hostileSegment },
  );
}

/**
 * The query: half the time only declared parameters with values their schemas take (so a route
 * answers more than 422), else values wrong, huge and repeated, and parameters nobody declared.
 */
function queryPairs(operation: Operation, context: SchemaContext) {
  const declared = operation.parameters.filter((parameter) => parameter.in === 'query');
  const valid = (parameter: Parameter) =>
    valuesOf(parameter.schema ?? {}, context).map((value) => encodeText(String(value)));
  const wellFormed = fc.tuple(
    ...declared.map((parameter) =>
      fc.oneof(
        { weight: 2, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: valid(parameter).map((v) => [`${parameter.name}=${v}`]) },
      ),
    ),
  );
  const hostile = fc.tuple(
    ...declared.map((parameter) => {
      const value = fc.oneof(
        { weight: 3, arbitrary: valid(parameter) },
        { weight: 2, arbitrary: hostileQueryValue },
      );
      return fc.oneof(
        { weight: 4, arbitrary: fc.constant([]) },
        { weight: 4, arbitrary: value.map((v) => [`${parameter.name}=${v}`]) },
        {
          weight: 1,
          arbitrary: fc
            .array(value, { minLength: 2, maxLength: 3 })
            .map((values) => values.map((v) => `${parameter.name}=${v}`)),
        },
        { weight: 1, arbitrary: value.map((v) => [`${parameter.name}[]=${v}`]) },
      );
    }),
  );
  const unknown = fc.array(
    fc.tuple(unknownQueryName, hostileQueryValue).map(([name, value]) => `${name}=${value}`),
    { maxLength: 2 },
  );
  return fc.oneof(
    wellFormed.map((pairs) => pairs.flat()),
    fc.tuple(hostile, unknown).map(([pairs, extra]) => [...pairs.flat(), ...extra]),
  );
}

/** What may follow the path: mostly nothing, else a trailing slash, an empty query or a fragment. */
const urlTail = fc.oneof(
  { weight: 12, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom('/', '?', '#x') },
);

function targetOf(operation: Operation, context: SchemaContext): fc.Arbitrary<string> {
  const pathParameters = operation.parameters.filter((parameter) => parameter.in === 'path');
  const values = fc.tuple(
    ...pathParameters.map((parameter) => pathValue(operation, parameter, context)),
  );
  return fc
    .tuple(values, queryPairs(operation, context), urlTail)
    .map(([segments, pairs, tail]) => {
      let path = operation.path;
      pathParameters.forEach((parameter, index) => {
        path = path.replace(`{${parameter.name}}`, segments[index] ?? '');
      });
      const query = pairs.length === 0 ? '' : `?${pairs.join('&')}`;
      return `${path}${tail === '/' ? '/' : ''}${query}${tail === '/' ? '' : tail}`;
    });
}

/** The operation's header parameters (Idempotency-Key, signature headers), then odd ones. */
function headersOf(operation: Operation, context: SchemaContext) {
  const declared = operation.parameters
    .filter((parameter) => parameter.in === 'header')
    .map((parameter) =>
      fc.option(
        fc
          .oneof(valuesOf(parameter.schema ?? {}, context).map(String), fc.uuid(), hostileText)
          .map((value): [string, string] => [parameter.name, headerText(value)]),
        { nil: undefined },
      ),
    );
  return fc
    .tuple(fc.tuple(...declared), fc.array(oddHeader, { maxLength: 3 }))
    .map(([own, odd]) => [...own.filter((pair) => pair !== undefined), ...odd]);
}

function credentialsOf(operation: Operation): fc.Arbitrary<Credential> {
  const signed: { weight: number; arbitrary: fc.Arbitrary<Credential> }[] =
    operation.signing === 'partnerHmac' || operation.signing === 'signedUrl'
      ? [{ weight: 12, arbitrary: fc.constant('signature') }]
      : [];
  return fc.oneof(
    ...signed,
    { weight: 3, arbitrary: fc.constant('none') },
    { weight: 6, arbitrary: fc.constant('user') },
    { weight: 2, arbitrary: fc.constant('userKey') },
    { weight: 1, arbitrary: fc.constant('userCookie') },
    { weight: 5, arbitrary: fc.constant('admin') },
    { weight: 2, arbitrary: fc.constant('adminKey') },
    { weight: 2, arbitrary: fc.constant('junk') },
  );
}

/** What a junk credential sends: an Authorization or X-API-Key that is none of ours. */
const junkCredential = fc.oneof(
  junkAuthorization.map((value): [string, string] => ['Authorization', value]),
  junkApiKey.map((value): [string, string] => ['X-API-Key', value]),
);

const clients: fc.Arbitrary<ClientAddress> = fc.oneof(
  { weight: 92, arbitrary: fc.nat(clientAddresses - 1).map((address) => ({ address })) },
  { weight: 6, arbitrary: fc.constant('hot' as const) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        undefined,
        '',
        'not-an-ip',
        '::1',
        '1.2.3.4, 5.6.7.8',
        '999.1.1.1',
        'x'.repeat(300),
      )
      .map((header) => ({ header })),
  },
);

const methodsFor = (operation: Operation) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(operation.method) },
    { weight: 1, arbitrary: fc.constantFrom(...oddMethods) },
  );

/** Every request this operation may be sent, minus its id. */
export function requestsFor(
  operation: Operation,
  context: SchemaContext,
): fc.Arbitrary<Omit<FuzzRequest, 'id'>> {
  return fc
    .record({
      method: methodsFor(operation),
      target: targetOf(operation, context),
      headers: headersOf(operation, context),
      credential: credentialsOf(operation),
      session: fc.nat(7),
      junk: junkCredential,
      client: clients,
      body: bodiesOf(operation, context),
    })
    .map(({ body, junk, ...request }) => {
      const headers = request.credential === 'junk' ? [junk, ...request.headers] : request.headers;
      if (bodyless.has(request.method.toUpperCase()) || body.body === undefined) {
        return { ...request, headers };
      }
      const typed: [string, string][] =
        body.contentType === undefined ? headers : [['Content-Type', body.contentType], ...headers];
      return { ...request, headers: typed, body: body.body };
    });
}
