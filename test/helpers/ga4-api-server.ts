import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One day of one page in the fixture the server reports from. */
export interface Ga4FixtureRow {
  /** YYYYMMDD, as GA4's `date` dimension. */
  date: string;
  pagePath: string;
  pageTitle: string;
  screenPageViews: number;
  activeUsers: number;
}

export interface Ga4ApiServerOptions {
  /** Service accounts Google knows: their e-mail and public key (PEM or KeyObject). */
  accounts: Array<{ clientEmail: string; publicKey: string | KeyObject }>;
  /** Properties by numeric id: who may read them and what they hold. */
  properties: Record<string, { readers: string[]; rows: Ga4FixtureRow[] }>;
  /** Allowed difference between the JWT's iat and the server clock; default 300 s. */
  maxSkewSeconds?: number;
  now?: () => Date;
  /** Property time zone for relative dates ('today', 'NdaysAgo'); default Asia/Tokyo (+9, no DST). */
  utcOffsetHours?: number;
}

export interface TestGa4ApiServer {
  url: string;
  /** The token endpoint (the JWT's audience): `${url}/token`. */
  tokenUrl: string;
  /** Every request, in order, for assertions (path, and the parsed body of runReport). */
  requests: Array<{ path: string; body?: unknown }>;
  /** Tokens issued so far. */
  tokensIssued(): number;
  close(): Promise<void>;
}

const DIMENSIONS = new Set(['date', 'pagePath', 'pageTitle']);
const METRICS = new Set(['screenPageViews', 'activeUsers']);
const DATE = /^(\d{4}-\d{2}-\d{2}|today|yesterday|\d+daysAgo)$/;

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

/** Google's error envelope (google.rpc.Status over HTTP). */
function googleError(res: ServerResponse, code: number, status: string, message: string) {
  send(res, code, { error: { code, message, status } });
}

/**
 * A local stand-in for Google's service-account token endpoint and the GA4 Data API's
 * runReport, keeping their documented contract: the JWT bearer grant (RFC 7523) with an RS256
 * assertion whose signature, issuer, audience, scope and lifetime are checked; access tokens
 * required on the Data API; PERMISSION_DENIED for accounts not added to the property; request
 * validation (dateRanges, known dimensions and metrics); metric values as strings; totals for
 * metricAggregations TOTAL; BEGINS_WITH / EXACT string filters; orderBys and limit.
 * @example
 * const ga = await startGa4ApiServer({ accounts: [{ clientEmail, publicKey }], properties: { '123': { readers: [clientEmail], rows } } })
 */
export async function startGa4ApiServer(options: Ga4ApiServerOptions): Promise<TestGa4ApiServer> {
  const now = options.now ?? (() => new Date());
  const skew = options.maxSkewSeconds ?? 300;
  const offsetMs = (options.utcOffsetHours ?? 9) * 3600_000;
  const keys = new Map(options.accounts.map((a) => [a.clientEmail, typeof a.publicKey === 'string' ? createPublicKey(a.publicKey) : a.publicKey]));
  const tokens = new Map<string, { email: string; expiresAt: number }>();
  const requests: TestGa4ApiServer['requests'] = [];
  let issued = 0;
  let tokenUrl = '';

  function verifyAssertion(jwt: string): { email: string } | { error: string; description: string } {
    const parts = jwt.split('.');
    if (parts.length !== 3) return { error: 'invalid_grant', description: 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe' };
    let header: { alg?: unknown };
    let claims: { iss?: unknown; aud?: unknown; scope?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return { error: 'invalid_grant', description: 'Invalid JWT format.' };
    }
    if (header.alg !== 'RS256') return { error: 'invalid_grant', description: 'Invalid JWT signature algorithm.' };
    const key = typeof claims.iss === 'string' ? keys.get(claims.iss) : undefined;
    if (!key) return { error: 'invalid_client', description: 'The OAuth client was not found.' };
    const ok = createVerify('RSA-SHA256').update(`${parts[0]}.${parts[1]}`).verify(key, Buffer.from(parts[2]!, 'base64url'));
    if (!ok) return { error: 'invalid_grant', description: 'Invalid JWT Signature.' };
    if (claims.aud !== tokenUrl) return { error: 'invalid_grant', description: 'Invalid JWT: audience mismatch.' };
    if (typeof claims.scope !== 'string' || !claims.scope.split(' ').some((s) => s === 'https://www.googleapis.com/auth/analytics.readonly' || s === 'https://www.googleapis.com/auth/analytics')) {
      return { error: 'invalid_scope', description: 'Invalid OAuth scope or ID token audience provided.' };
    }
    const t = now().getTime() / 1000;
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp - claims.iat > 3600 || claims.iat > t + skew || claims.exp < t - skew) {
      return { error: 'invalid_grant', description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.' };
    }
    return { email: claims.iss as string };
  }

  /** A date range bound as YYYYMMDD in the property's time zone. */
  function day(value: string): string {
    const local = new Date(now().getTime() + offsetMs);
    const m = /^(\d+)daysAgo$/.exec(value);
    const shift = value === 'today' ? 0 : value === 'yesterday' ? 1 : m ? Number(m[1]) : null;
    if (shift === null) return value.replace(/-/g, '');
    return new Date(local.getTime() - shift * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  }

  function runReport(res: ServerResponse, property: string, email: string, raw: string) {
    const p = options.properties[property];
    if (!p || !p.readers.includes(email)) {
      return googleError(res, 403, 'PERMISSION_DENIED', `User does not have sufficient permissions for this property. To learn more about Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.`);
    }
    let body: {
      dateRanges?: Array<{ startDate?: string; endDate?: string }>;
      dimensions?: Array<{ name?: string }>;
      metrics?: Array<{ name?: string }>;
      dimensionFilter?: { filter?: { fieldName?: string; stringFilter?: { matchType?: string; value?: string } } };
      orderBys?: Array<{ desc?: boolean; metric?: { metricName?: string }; dimension?: { dimensionName?: string } }>;
      limit?: number | string;
      metricAggregations?: string[];
    };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    requests[requests.length - 1]!.body = body;
    const ranges = body.dateRanges ?? [];
    if (ranges.length < 1 || ranges.length > 4 || ranges.some((r) => !DATE.test(r.startDate ?? '') || !DATE.test(r.endDate ?? ''))) {
      return googleError(res, 400, 'INVALID_ARGUMENT', 'Field dateRanges is invalid.');
    }
    const dims = (body.dimensions ?? []).map((d) => d.name ?? '');
    const mets = (body.metrics ?? []).map((m) => m.name ?? '');
    const unknown = [...dims.filter((d) => !DIMENSIONS.has(d)), ...mets.filter((m) => !METRICS.has(m))];
    if (!mets.length) return googleError(res, 400, 'INVALID_ARGUMENT', 'At least one metric is required.');
    if (unknown.length) return googleError(res, 400, 'INVALID_ARGUMENT', `Did you mean ...? Field ${unknown[0]} is not a valid dimension or metric.`);
    const filter = body.dimensionFilter?.filter;
    const [from, to] = [day(ranges[0]!.startDate!), day(ranges[0]!.endDate!)];
    const rows = p.rows.filter((r) => {
      if (r.date < from || r.date > to) return false;
      if (!filter) return true;
      const v = String(r[filter.fieldName as keyof Ga4FixtureRow] ?? '');
      const want = filter.stringFilter?.value ?? '';
      return filter.stringFilter?.matchType === 'BEGINS_WITH' ? v.startsWith(want) : v === want;
    });
    const groups = new Map<string, { dims: string[]; mets: number[] }>();
    for (const r of rows) {
      const dv = dims.map((d) => String(r[d as keyof Ga4FixtureRow]));
      const key = JSON.stringify(dv);
      const g = groups.get(key) ?? { dims: dv, mets: mets.map(() => 0) };
      mets.forEach((m, i) => (g.mets[i]! += Number(r[m as keyof Ga4FixtureRow])));
      groups.set(key, g);
    }
    let out = [...groups.values()];
    for (const o of [...(body.orderBys ?? [])].reverse()) {
      const sign = o.desc ? -1 : 1;
      if (o.metric?.metricName) {
        const i = mets.indexOf(o.metric.metricName);
        out = out.sort((a, b) => sign * (a.mets[i]! - b.mets[i]!));
      } else if (o.dimension?.dimensionName) {
        const i = dims.indexOf(o.dimension.dimensionName);
        out = out.sort((a, b) => sign * a.dims[i]!.localeCompare(b.dims[i]!));
      }
    }
    const rowCount = out.length;
    const limit = body.limit === undefined ? 10000 : Number(body.limit);
    out = out.slice(0, limit);
    const total = mets.map((_, i) => [...groups.values()].reduce((s, g) => s + g.mets[i]!, 0));
    send(res, 200, {
      dimensionHeaders: dims.map((name) => ({ name })),
      metricHeaders: mets.map((name) => ({ name, type: 'TYPE_INTEGER' })),
      ...(out.length ? { rows: out.map((g) => ({ dimensionValues: g.dims.map((value) => ({ value })), metricValues: g.mets.map((v) => ({ value: String(v) })) })) } : {}),
      ...(body.metricAggregations?.includes('TOTAL') && rowCount ? { totals: [{ dimensionValues: dims.map(() => ({ value: 'RESERVED_TOTAL' })), metricValues: total.map((v) => ({ value: String(v) })) }] } : {}),
      rowCount,
      metadata: { currencyCode: 'JPY', timeZone: 'Asia/Tokyo' },
      kind: 'analyticsData#runReport',
    });
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({ path: url.pathname });
    if (req.method === 'POST' && url.pathname === '/token') {
      if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return send(res, 400, { error: 'invalid_request', error_description: 'Bad Request' });
      const form = new URLSearchParams(raw);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return send(res, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' + (form.get('grant_type') ?? '') });
      const r = verifyAssertion(form.get('assertion') ?? '');
      if ('error' in r) return send(res, r.error === 'invalid_client' ? 401 : 400, { error: r.error, error_description: r.description });
      const token = `ya29.${randomBytes(24).toString('base64url')}`;
      tokens.set(token, { email: r.email, expiresAt: now().getTime() + 3599_000 });
      issued++;
      return send(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }
    const m = /^\/v1beta\/properties\/(\d+):runReport$/.exec(url.pathname);
    if (req.method === 'POST' && m) {
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const t = auth ? tokens.get(auth) : undefined;
      if (!t || t.expiresAt < now().getTime()) {
        return googleError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
      }
      return runReport(res, m[1]!, t.email, raw);
    }
    return googleError(res, 404, 'NOT_FOUND', 'Not Found');
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        res.writeHead(500).end(String(e));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  tokenUrl = `${url}/token`;
  return {
    url,
    tokenUrl,
    requests,
    tokensIssued: () => issued,
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
