import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_WEIGHTED_LENGTH, weightedLength } from '../../src/modules/sns/x-text.js';

/** The user-context keys the server accepts for OAuth 1.0a. */
export interface XApiOAuth1Keys {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
}

export interface XApiServerOptions {
  oauth1?: XApiOAuth1Keys;
  /** OAuth 2.0 user-context access tokens the server accepts. */
  bearerTokens?: string[];
  /** Posts allowed per window (X: 100 per 15 minutes per user); unlimited when absent. */
  rateLimit?: { limit: number; windowMs: number };
  /** Posts allowed per 24 hours per user (X's daily cap), sent as x-user-limit-24hour-*. */
  dailyLimit?: number;
  /** How far oauth_timestamp may be from the server's clock; default 300 s. */
  maxSkewSeconds?: number;
  now?: () => Date;
}

export interface RecordedPost {
  id: string;
  text: string;
  replyTo?: string;
  auth: 'oauth1' | 'oauth2';
}

export interface TestXApiServer {
  /** Base URL, e.g. `http://127.0.0.1:12345`, for XClient's baseUrl. */
  url: string;
  /** Every post created, in order. */
  posts: RecordedPost[];
  /** How many HTTP requests reached the server (accepted or not). */
  requestCount(): number;
  /** The next `k` requests get `status` (default 503) before anything else is checked. */
  failNext(k: number, status?: number): void;
  /** The next `k` requests get no answer at all (until close), to exercise time-outs. */
  hangNext(k: number): void;
  close(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

// Written independently of src/modules/sns/oauth1.ts (byte-wise rather than through
// encodeURIComponent), so that a mistake in the client's signing cannot hide behind the same
// mistake here.
function rfc3986(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Parses `OAuth k="v", …` (RFC 5849 §3.5.1); values are percent-encoded. */
function parseOAuthHeader(header: string): Map<string, string> | null {
  const m = /^OAuth\s+(.*)$/is.exec(header);
  if (!m) return null;
  const params = new Map<string, string>();
  for (const part of m[1]!.split(',')) {
    const kv = /^\s*([^=\s]+)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (!kv) return null;
    params.set(decodeURIComponent(kv[1]!), decodeURIComponent(kv[2]!));
  }
  return params;
}

function problem(res: ServerResponse, status: number, title: string, detail: string, extra: object = {}) {
  send(res, status, { title, detail, type: 'about:blank', status, ...extra });
}

function send(res: ServerResponse, status: number, body: object) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/**
 * A local stand-in for X's POST /2/tweets that keeps X's documented contract: OAuth 1.0a
 * signatures really checked (HMAC-SHA1 recomputed with the known secrets, stale timestamps and
 * reused nonces refused), OAuth 2.0 user bearer tokens, the weighted 280 limit (400), duplicate
 * text (403), a rate limit with x-rate-limit-* headers (429) and forced outages (503).
 * @example
 * const x = await startXApiServer({ oauth1: keys, rateLimit: { limit: 2, windowMs: 900_000 } })
 * const client = new XClient({ baseUrl: x.url, credentials: { kind: 'oauth1', ...keys } })
 * await client.post('こんにちは')
 * expect(x.posts[0]?.text).toBe('こんにちは')
 * await x.close()
 */
export async function startXApiServer(options: XApiServerOptions = {}): Promise<TestXApiServer> {
  const now = options.now ?? (() => new Date());
  const maxSkew = options.maxSkewSeconds ?? 300;
  const posts: RecordedPost[] = [];
  const seenNonces = new Set<string>();
  let requests = 0;
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  let hangs = 0;
  let window = { start: -Infinity, used: 0 };
  let day = { start: -Infinity, used: 0 };
  let nextId = 1_800_000_000_000_000_000n;

  function authenticate(req: IncomingMessage, url: URL): 'oauth1' | 'oauth2' | null {
    const header = req.headers.authorization ?? '';
    if (/^Bearer /i.test(header)) {
      return options.bearerTokens?.includes(header.slice(7)) ? 'oauth2' : null;
    }
    const keys = options.oauth1;
    const params = parseOAuthHeader(header);
    if (!keys || !params) return null;
    const signature = params.get('oauth_signature');
    const timestamp = Number(params.get('oauth_timestamp'));
    const nonce = params.get('oauth_nonce');
    if (
      !signature ||
      !nonce ||
      params.get('oauth_signature_method') !== 'HMAC-SHA1' ||
      params.get('oauth_consumer_key') !== keys.consumerKey ||
      params.get('oauth_token') !== keys.accessToken ||
      (params.has('oauth_version') && params.get('oauth_version') !== '1.0') ||
      !Number.isInteger(timestamp) ||
      Math.abs(now().getTime() / 1000 - timestamp) > maxSkew ||
      seenNonces.has(`${timestamp}:${nonce}`)
    ) {
      return null;
    }
    const pairs: string[][] = [];
    for (const [k, v] of params) if (k !== 'oauth_signature' && k !== 'realm') pairs.push([rfc3986(k), rfc3986(v)]);
    for (const [k, v] of url.searchParams) pairs.push([rfc3986(k), rfc3986(v)]);
    pairs.sort((a, b) => (a[0]! === b[0]! ? (a[1]! < b[1]! ? -1 : 1) : a[0]! < b[0]! ? -1 : 1));
    const base = [
      req.method!.toUpperCase(),
      rfc3986(`http://${req.headers.host!.toLowerCase()}${url.pathname}`),
      rfc3986(pairs.map(([k, v]) => `${k}=${v}`).join('&')),
    ].join('&');
    const key = `${rfc3986(keys.consumerSecret)}&${rfc3986(keys.accessTokenSecret)}`;
    const expected = createHmac('sha1', key).update(base).digest();
    const given = Buffer.from(signature, 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    seenNonces.add(`${timestamp}:${nonce}`);
    return 'oauth1';
  }

  /** Counts one post against the window and the day; false when either is spent. */
  function takeRateSlot(res: ServerResponse): boolean {
    // Like X, every answer carries both the window's and the daily cap's headers.
    const t = now().getTime();
    let allowed = true;
    const daily = options.dailyLimit;
    if (daily !== undefined) {
      if (t >= day.start + DAY_MS) day = { start: t, used: 0 };
      allowed = day.used < daily;
    }
    const limit = options.rateLimit;
    if (limit) {
      if (t >= window.start + limit.windowMs) window = { start: t, used: 0 };
      allowed &&= window.used < limit.limit;
    }
    if (allowed) {
      day.used++;
      window.used++;
    }
    if (daily !== undefined) {
      res.setHeader('x-user-limit-24hour-limit', String(daily));
      res.setHeader('x-user-limit-24hour-remaining', String(daily - day.used));
      res.setHeader('x-user-limit-24hour-reset', String(Math.ceil((day.start + DAY_MS) / 1000)));
    }
    if (limit) {
      res.setHeader('x-rate-limit-limit', String(limit.limit));
      res.setHeader('x-rate-limit-remaining', String(limit.limit - window.used));
      res.setHeader('x-rate-limit-reset', String(Math.ceil((window.start + limit.windowMs) / 1000)));
    }
    return allowed;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (failures.count > 0) {
      failures.count--;
      return problem(res, failures.status, 'Service Unavailable', 'Service Unavailable');
    }
    if (req.method !== 'POST' || url.pathname !== '/2/tweets') return problem(res, 404, 'Not Found Error', 'Not Found');
    const auth = authenticate(req, url);
    if (!auth) return problem(res, 401, 'Unauthorized', 'Unauthorized');
    if (!takeRateSlot(res)) return problem(res, 429, 'Too Many Requests', 'Too Many Requests');
    let body: { text?: unknown; reply?: { in_reply_to_tweet_id?: unknown } };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return invalid(res, 'Request body is not valid JSON.');
    }
    if (typeof body.text !== 'string' || body.text === '') return invalid(res, 'Post text is required.');
    if (weightedLength(body.text) > MAX_WEIGHTED_LENGTH) {
      return invalid(res, 'Your Tweet text is too long. For more information on how X determines text length see https://github.com/twitter/twitter-text.');
    }
    if (posts.some((p) => p.text === body.text)) {
      return problem(res, 403, 'Forbidden', 'You are not allowed to create a Tweet with duplicate content.');
    }
    const replyTo = body.reply?.in_reply_to_tweet_id;
    const id = String(nextId++);
    posts.push({ id, text: body.text, auth, ...(typeof replyTo === 'string' ? { replyTo } : {}) });
    send(res, 201, { data: { id, text: body.text, edit_history_tweet_ids: [id] } });
  }

  function invalid(res: ServerResponse, message: string) {
    send(res, 400, {
      errors: [{ parameters: {}, message }],
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.twitter.com/2/problems/invalid-request',
    });
  }

  const server = createServer((req, res) => {
    requests++;
    if (hangs > 0) {
      hangs--;
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((e: unknown) => {
        res.writeHead(500).end(String(e));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    requestCount: () => requests,
    failNext(k, status = 503) {
      failures = { count: k, status };
    },
    hangNext(k) {
      hangs = k;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
