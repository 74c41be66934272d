import fc from 'fast-check';

/**
 * Mutations of a valid request, as an attacker or a broken proxy would produce them: bit
 * flips in body, query and headers, re-ordered or altered query parameters, dropped or
 * duplicated headers, huge and deeply nested bodies, wrong content types.
 */
export interface RequestSpec {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

export interface Mutation {
  readonly name: string;
  apply(spec: RequestSpec): RequestSpec;
}

function flipBit(buffer: Buffer, bit: number): Buffer {
  const copy = Buffer.from(buffer);
  if (copy.length === 0) return Buffer.from([1 << (bit % 8)]);
  const index = Math.floor(bit / 8) % copy.length;
  copy[index] = (copy[index] ?? 0) ^ (1 << (bit % 8));
  return copy;
}

function splitUrl(url: string): { path: string; params: [string, string][] } {
  const [path = '', query = ''] = url.split(/\?(.*)/s);
  const params =
    query === ''
      ? []
      : query.split('&').map((pair): [string, string] => {
          const [k = '', v = ''] = pair.split(/=(.*)/s);
          return [k, v];
        });
  return { path, params };
}

function joinUrl(path: string, params: readonly [string, string][]): string {
  return params.length === 0 ? path : `${path}?${params.map(([k, v]) => `${k}=${v}`).join('&')}`;
}

export const bodyBitFlip = fc.nat({ max: 1_000_000 }).map<Mutation>((bit) => ({
  name: `body bit ${bit}`,
  apply: (spec) => ({ ...spec, body: flipBit(spec.body ?? Buffer.alloc(0), bit) }),
}));

export const pathBitFlip = fc.nat({ max: 10_000 }).map<Mutation>((bit) => ({
  name: `url bit ${bit}`,
  apply: (spec) => {
    const flipped = flipBit(Buffer.from(spec.url, 'latin1'), bit).toString('latin1');
    // Keep it a syntactically possible request target; otherwise the client refuses to send.
    const url = flipped.replace(/[^\x21-\x7e]/g, 'X');
    return { ...spec, url: url.startsWith('/') ? url : `/${url.slice(1)}` };
  },
}));

export const queryValueChange = fc
  .tuple(fc.nat(), fc.stringMatching(/^[A-Za-z0-9._~-]{0,24}$/))
  .map<Mutation>(([which, value]) => ({
    name: `query value ${which} → ${value}`,
    apply: (spec) => {
      const { path, params } = splitUrl(spec.url);
      if (params.length === 0) return { ...spec, url: `${path}?x=${value}` };
      const index = which % params.length;
      const next = params.map((p, i): [string, string] =>
        i === index ? [p[0], value === p[1] ? `${value}0` : value] : p,
      );
      return { ...spec, url: joinUrl(path, next) };
    },
  }));

export const queryReorder = fc.nat().map<Mutation>((seed) => ({
  name: `query reorder ${seed}`,
  apply: (spec) => {
    const { path, params } = splitUrl(spec.url);
    if (params.length < 2)
      return { ...spec, url: joinUrl(path, [...params, ['extra', String(seed)]]) };
    const rotated = [
      ...params.slice(1 + (seed % (params.length - 1))),
      ...params.slice(0, 1 + (seed % (params.length - 1))),
    ];
    return { ...spec, url: joinUrl(path, rotated) };
  },
}));

export const headerDrop = (names: readonly string[]) =>
  fc.constantFrom(...names).map<Mutation>((name) => ({
    name: `drop header ${name}`,
    apply: (spec) => ({
      ...spec,
      headers: Object.fromEntries(Object.entries(spec.headers).filter(([key]) => key !== name)),
    }),
  }));

export const headerBitFlip = (names: readonly string[]) =>
  fc.tuple(fc.constantFrom(...names), fc.nat({ max: 2000 })).map<Mutation>(([name, bit]) => ({
    name: `header ${name} bit ${bit}`,
    apply: (spec) => {
      const value = spec.headers[name] ?? '';
      const flipped = flipBit(Buffer.from(value, 'latin1'), bit)
        .toString('latin1')
        .replace(/[^\x20-\x7e]/g, 'A');
      return {
        ...spec,
        headers: { ...spec.headers, [name]: flipped === value ? `${value}A` : flipped },
      };
    },
  }));

export const wrongContentType = fc
  .constantFrom(
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/xml',
    'multipart/form-data; boundary=x',
    '',
  )
  .map<Mutation>((type) => ({
    name: `content-type ${type || '(none)'}`,
    apply: (spec) => ({ ...spec, headers: { ...spec.headers, 'content-type': type } }),
  }));

export const hugeBody = fc.integer({ min: 2, max: 4 }).map<Mutation>((megabytes) => ({
  name: `huge body ${megabytes} MiB`,
  apply: (spec) => ({
    ...spec,
    body: Buffer.concat([
      Buffer.from('{"padding":"'),
      Buffer.alloc(megabytes * 1024 * 1024, 'a'),
      Buffer.from('"}'),
    ]),
  }),
}));

export const deepJson = fc.integer({ min: 1_000, max: 100_000 }).map<Mutation>((depth) => ({
  name: `deep JSON ${depth}`,
  apply: (spec) => ({ ...spec, body: Buffer.from('['.repeat(depth) + ']'.repeat(depth)) }),
}));

/** A JSON body of exactly `bytes` bytes (a padded object). */
function paddedJson(bytes: number): Buffer {
  const frame = Buffer.from('{"padding":""}');
  const padding = Math.max(0, bytes - frame.length);
  return Buffer.concat([
    Buffer.from('{"padding":"'),
    Buffer.alloc(padding, 'a'),
    Buffer.from('"}'),
  ]).subarray(0, Math.max(bytes, frame.length));
}

/** Bodies right at a route's limit (one under, exactly, one over) and far above it. */
export const bodyAroundLimit = (limit: number) =>
  fc.constantFrom(limit - 1, limit, limit + 1, 2 * limit).map<Mutation>((bytes) => ({
    name: `body of ${bytes} B (limit ${limit})`,
    apply: (spec) => ({ ...spec, body: paddedJson(bytes) }),
  }));

/** A header sent twice: Node joins repeated custom headers with ", " (RFC 9110 §5.3). */
export const headerDuplicate = (names: readonly string[]) =>
  fc.tuple(fc.constantFrom(...names), fc.boolean()).map<Mutation>(([name, other]) => ({
    name: `duplicate header ${name}${other ? ' (second value differs)' : ''}`,
    apply: (spec) => {
      const value = spec.headers[name] ?? '';
      return {
        ...spec,
        headers: { ...spec.headers, [name]: `${value}, ${other ? `${value}x` : value}` },
      };
    },
  }));

export const methodChange = fc
  .constantFrom<RequestSpec['method']>('GET', 'POST', 'PUT', 'PATCH', 'DELETE')
  .map<Mutation>((method) => ({
    name: `method ${method}`,
    apply: (spec) => ({
      ...spec,
      method: method === spec.method ? (method === 'GET' ? 'POST' : 'GET') : method,
      // A GET carries no body.
      ...(method === 'GET' ? { body: undefined } : {}),
    }),
  }));

/**
 * The timestamp header moved (the signature left as it was): stale, future, at the ±5 min
 * edges, not 13 digits, or not a number.
 */
export const timestampChange = (header: string) =>
  fc
    .oneof(
      fc.constantFrom(-300_001, 300_001, -299_000, 299_000, -1, 1, -86_400_000),
      fc.integer({ min: -10_000_000, max: 10_000_000 }),
    )
    .chain((delta) =>
      fc.constantFrom('shift', 'seconds', 'word', 'padded').map((form) => ({ delta, form })),
    )
    .map<Mutation>(({ delta, form }) => ({
      name: `timestamp ${form} ${delta}`,
      apply: (spec) => {
        const original = Number(spec.headers[header] ?? Date.now());
        const shifted = original + (delta === 0 ? 1 : delta);
        const value =
          form === 'shift'
            ? String(shifted)
            : form === 'seconds'
              ? String(Math.floor(original / 1000))
              : form === 'word'
                ? 'now'
                : ` ${String(original)}`;
        return { ...spec, headers: { ...spec.headers, [header]: value } };
      },
    }));

/** Another portal's id put where the signed one was (url and body), signature unchanged. */
export const otherPortalId = (portalId: string) =>
  fc
    .oneof(fc.integer({ min: 1, max: 2_000_000_000 }), fc.constant(Number(portalId) + 1))
    .map<Mutation>((other) => ({
      name: `portal ${portalId} → ${other}`,
      apply: (spec) => {
        const replace = (text: string) => text.replaceAll(portalId, String(other));
        return {
          ...spec,
          url: replace(spec.url),
          ...(spec.body ? { body: Buffer.from(replace(spec.body.toString('utf8'))) } : {}),
        };
      },
    }));

/** One to three mutations applied in turn. */
export const chained = (mutation: fc.Arbitrary<Mutation>) =>
  fc.array(mutation, { minLength: 1, maxLength: 3 }).map<Mutation>((list) => ({
    name: list.map((m) => m.name).join(' + '),
    apply: (spec) => list.reduce((acc, m) => m.apply(acc), spec),
  }));
