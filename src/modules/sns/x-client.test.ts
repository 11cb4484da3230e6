import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startXApiServer, type TestXApiServer, type XApiServerOptions } from '../../../test/helpers/x-api-server.js';
import { signRequest } from './oauth1.js';
import {
  XApiError,
  XAuthError,
  XClient,
  XDuplicateError,
  XRateLimitError,
  XRequestError,
  XTextTooLongError,
  XUnavailableError,
  type XClientOptions,
} from './x-client.js';
import { truncateForPost, weightedLength } from './x-text.js';

const KEYS = {
  consumerKey: 'machimado-consumer-key',
  consumerSecret: 'consumer-secret-DO-NOT-LEAK',
  accessToken: '1234567890-machimado-access-token',
  accessTokenSecret: 'token-secret-DO-NOT-LEAK',
};
const BEARER = 'oauth2-user-access-token-DO-NOT-LEAK';
const OAUTH1 = { kind: 'oauth1' as const, ...KEYS };
const OAUTH2 = { kind: 'oauth2' as const, bearerToken: BEARER };
const NOTICE = '【まちまど市】本日、市民窓口の開庁時間を19時まで延長します。';

let server: TestXApiServer | undefined;

async function setup(serverOptions: XApiServerOptions = {}, clientOptions: Partial<XClientOptions> = {}) {
  server = await startXApiServer({ oauth1: KEYS, bearerTokens: [BEARER], ...serverOptions });
  const client = new XClient({ baseUrl: server.url, credentials: OAUTH1, timeoutMs: 5_000, ...clientOptions });
  return { x: server, client };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the promise to reject');
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('XClient against a local X API server', () => {
  it('posts Japanese text signed with OAuth 1.0a', async () => {
    const { x, client } = await setup();
    const post = await client.post(NOTICE);
    expect(post.text).toBe(NOTICE);
    expect(post.id).toMatch(/^\d+$/);
    expect(x.posts).toEqual([{ id: post.id, text: NOTICE, auth: 'oauth1' }]);
  });

  it('posts a reply in a thread', async () => {
    const { x, client } = await setup();
    const first = await client.post('台風第10号に関する情報（第1報）');
    const second = await client.post('台風第10号に関する情報（第2報）', { replyTo: first.id });
    expect(x.posts[1]).toEqual({ id: second.id, text: '台風第10号に関する情報（第2報）', replyTo: first.id, auth: 'oauth1' });
  });

  it('posts with an OAuth 2.0 user access token', async () => {
    const { x, client } = await setup({}, { credentials: OAUTH2 });
    const post = await client.post(NOTICE);
    expect(x.posts).toEqual([{ id: post.id, text: NOTICE, auth: 'oauth2' }]);
  });

  it('reports a wrong OAuth 2.0 token as XAuthError', async () => {
    const { x, client } = await setup({}, { credentials: { kind: 'oauth2', bearerToken: 'expired-token' } });
    const err = await rejection(client.post(NOTICE));
    expect(err).toBeInstanceOf(XAuthError);
    expect((err as XAuthError).status).toBe(401);
    expect(x.posts).toHaveLength(0);
  });

  it.each([
    ['consumer secret', { consumerSecret: 'tampered' }],
    ['access token secret', { accessTokenSecret: 'tampered' }],
    ['consumer key', { consumerKey: 'someone-else' }],
  ])('reports a tampered %s as XAuthError', async (_name, change) => {
    const { x, client } = await setup({}, { credentials: { ...OAUTH1, ...change } });
    const err = await rejection(client.post(NOTICE));
    expect(err).toBeInstanceOf(XAuthError);
    expect((err as XAuthError).retryable).toBe(false);
    expect(x.requestCount()).toBe(1);
    expect(x.posts).toHaveLength(0);
  });

  it('reports a clock an hour off (stale oauth_timestamp) as XAuthError', async () => {
    const { client } = await setup({}, { now: () => new Date(Date.now() - 3600_000) });
    expect(await rejection(client.post(NOTICE))).toBeInstanceOf(XAuthError);
  });

  it('reports duplicate text as XDuplicateError, which callers treat as already posted', async () => {
    const { x, client } = await setup();
    await client.post(NOTICE);
    const err = await rejection(client.post(NOTICE));
    expect(err).toBeInstanceOf(XDuplicateError);
    expect((err as XDuplicateError).status).toBe(403);
    expect((err as XDuplicateError).apiMessages).toEqual(['You are not allowed to create a Tweet with duplicate content.']);
    expect(x.posts).toHaveLength(1);
  });

  it('reports the rate limit as XRateLimitError with retryAt from x-rate-limit-reset', async () => {
    const start = Date.parse('2025-08-01T09:00:00.250+09:00');
    const now = () => new Date(start);
    const { x, client } = await setup({ now, rateLimit: { limit: 2, windowMs: 15 * 60_000 } }, { now });
    await client.post('第1報');
    await client.post('第2報');
    const err = await rejection(client.post('第3報'));
    expect(err).toBeInstanceOf(XRateLimitError);
    const limited = err as XRateLimitError;
    expect(limited.status).toBe(429);
    expect(limited.retryable).toBe(true);
    // The window ends at 09:15:00.250; X announces whole seconds, rounded up.
    expect(limited.retryAt.toISOString()).toBe('2025-08-01T00:15:01.000Z');
    expect(x.posts.map((p) => p.text)).toEqual(['第1報', '第2報']);
  });

  it('takes the 24-hour reset when the daily cap, not the 15-minute window, is spent', async () => {
    const start = Date.parse('2025-08-01T00:00:00Z');
    const now = () => new Date(start);
    const { client } = await setup({ now, dailyLimit: 1, rateLimit: { limit: 100, windowMs: 15 * 60_000 } }, { now });
    await client.post('第1報');
    const err = (await rejection(client.post('第2報'))) as XRateLimitError;
    expect(err).toBeInstanceOf(XRateLimitError);
    expect(err.retryAt.toISOString()).toBe('2025-08-02T00:00:00.000Z');
  });

  it('reports 503 as a retryable XUnavailableError and posts once X is back', async () => {
    const { x, client } = await setup();
    x.failNext(2);
    for (let i = 0; i < 2; i++) {
      const err = await rejection(client.post(NOTICE));
      expect(err).toBeInstanceOf(XUnavailableError);
      expect((err as XUnavailableError).status).toBe(503);
      expect((err as XUnavailableError).retryable).toBe(true);
    }
    await client.post(NOTICE);
    expect(x.posts).toHaveLength(1);
  });

  it('reports 500 as XUnavailableError too', async () => {
    const { x, client } = await setup();
    x.failNext(1, 500);
    const err = await rejection(client.post(NOTICE));
    expect(err).toBeInstanceOf(XUnavailableError);
    expect((err as XUnavailableError).status).toBe(500);
  });

  it('gives up after timeoutMs with XUnavailableError', async () => {
    const { x, client } = await setup({}, { timeoutMs: 200 });
    x.hangNext(1);
    const started = Date.now();
    const err = await rejection(client.post(NOTICE));
    expect(err).toBeInstanceOf(XUnavailableError);
    expect((err as XUnavailableError).status).toBeNull();
    expect(err.message).toContain('200 ms');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('reports a refused connection as XUnavailableError', async () => {
    const { x } = await setup();
    const url = x.url;
    await x.close();
    server = undefined;
    const client = new XClient({ baseUrl: url, credentials: OAUTH1 });
    expect(await rejection(client.post(NOTICE))).toBeInstanceOf(XUnavailableError);
  });

  it('refuses text over 280 locally, in Japanese, without a request', async () => {
    const { x, client } = await setup();
    const err = await rejection(client.post('あ'.repeat(141)));
    expect(err).toBeInstanceOf(XTextTooLongError);
    expect(err).toBeInstanceOf(XRequestError);
    expect((err as XTextTooLongError).weightedLength).toBe(282);
    expect(err.message).toContain('投稿文が長すぎます（282 / 280）');
    expect(await rejection(client.post('   '))).toBeInstanceOf(XRequestError);
    expect(x.requestCount()).toBe(0);
  });

  it('carries the API messages of a 400 in XRequestError', async () => {
    // A fetch that swaps in an over-long text after the client's own check: the real server's 400.
    const tooLong: typeof fetch = (input, init) =>
      fetch(input, { ...init, body: JSON.stringify({ text: 'あ'.repeat(141) }) });
    const { x, client } = await setup({}, { fetch: tooLong });
    const err = await rejection(client.post(NOTICE));
    expect(err).toBeInstanceOf(XRequestError);
    expect(err).not.toBeInstanceOf(XTextTooLongError);
    expect((err as XRequestError).status).toBe(400);
    expect((err as XRequestError).apiMessages[0]).toMatch(/too long/);
    expect(x.posts).toHaveLength(0);
  });

  it('has truncateForPost output accepted at exactly 280, and the server refuse one unit more', async () => {
    const { x, client } = await setup();
    const url = 'https://city.example.jp/bousai/2025/typhoon-10/evacuation-order.html';
    const text = truncateForPost(`【避難指示】${'土砂災害警戒区域にお住まいの方は直ちに避難してください。'.repeat(10)}`, { url });
    expect(weightedLength(text)).toBe(280);
    const post = await client.post(text);
    expect(x.posts).toEqual([{ id: post.id, text, auth: 'oauth1' }]);

    // One more unit, sent past the client's check: the server applies the same limit.
    const over = `a${text}`;
    const raw = await fetch(`${x.url}/2/tweets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BEARER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: over }),
    });
    expect(raw.status).toBe(400);
  });

  it('sends one request per idempotency key and shares one in flight', async () => {
    const { x, client } = await setup();
    const [a, b] = await Promise.all([
      client.post(NOTICE, { idempotencyKey: 'page-42-v1' }),
      client.post(NOTICE, { idempotencyKey: 'page-42-v1' }),
    ]);
    const c = await client.post(NOTICE, { idempotencyKey: 'page-42-v1' });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(x.requestCount()).toBe(1);
  });

  it('forgets a failed attempt, so a retry under the same key is sent again', async () => {
    const { x, client } = await setup();
    x.failNext(1);
    expect(await rejection(client.post(NOTICE, { idempotencyKey: 'k' }))).toBeInstanceOf(XUnavailableError);
    await client.post(NOTICE, { idempotencyKey: 'k' });
    expect(x.requestCount()).toBe(2);
    expect(x.posts).toHaveLength(1);
  });

  it('never shows credentials in the client or its errors', async () => {
    const { client } = await setup({}, { credentials: { ...OAUTH1, consumerSecret: 'consumer-secret-DO-NOT-LEAK!' } });
    const err = await rejection(client.post(NOTICE));
    expect(err).toBeInstanceOf(XApiError);
    const oauth2 = new XClient({ credentials: OAUTH2 });
    const shown = [inspect(client, { depth: 5 }), inspect(oauth2, { depth: 5 }), JSON.stringify(client), inspect(err), JSON.stringify(err), err.message].join('\n');
    for (const secret of ['DO-NOT-LEAK', KEYS.accessToken, KEYS.consumerKey]) expect(shown).not.toContain(secret);
  });
});

describe('the local X API server itself', () => {
  const sign = (url: string, keys = KEYS) =>
    signRequest({ method: 'POST', url: `${url}/2/tweets`, credentials: keys }).authorization;
  const postRaw = (url: string, authorization: string, text: string) =>
    fetch(`${url}/2/tweets`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ text }) });

  it('recomputes the signature: a header altered after signing is refused', async () => {
    const { x } = await setup();
    const altered = sign(x.url).replace(/oauth_timestamp="(\d+)"/, (_m, t: string) => `oauth_timestamp="${Number(t) - 1}"`);
    expect((await postRaw(x.url, altered, 'a')).status).toBe(401);
    expect((await postRaw(x.url, sign(x.url), 'b')).status).toBe(201);
  });

  it('refuses a replayed nonce', async () => {
    const { x } = await setup();
    const authorization = sign(x.url);
    expect((await postRaw(x.url, authorization, 'first')).status).toBe(201);
    expect((await postRaw(x.url, authorization, 'second')).status).toBe(401);
  });

  it('sends x-rate-limit-* headers and a 429 body like X', async () => {
    const { x } = await setup({ rateLimit: { limit: 1, windowMs: 60_000 } });
    const ok = await postRaw(x.url, `Bearer ${BEARER}`, 'one');
    expect(ok.headers.get('x-rate-limit-remaining')).toBe('0');
    const limited = await postRaw(x.url, `Bearer ${BEARER}`, 'two');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('x-rate-limit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(await limited.json()).toMatchObject({ title: 'Too Many Requests', status: 429 });
  });
});
