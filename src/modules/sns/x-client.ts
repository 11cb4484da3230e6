/**
 * Posts to X through the v2 "Manage Posts" endpoint (POST /2/tweets), as a user: OAuth 1.0a
 * (consumer key + access token) or an OAuth 2.0 user-context access token. Each way X can
 * answer becomes its own error class, so the caller (a job) knows whether to retry, when, or
 * to give up.
 */
import { signRequest, type OAuth1Credentials } from './oauth1.js';
import { MAX_WEIGHTED_LENGTH, weightedLength } from './x-text.js';

export type XCredentials =
  | ({ kind: 'oauth1' } & OAuth1Credentials)
  | {
      kind: 'oauth2';
      /** A user-context access token (app-only bearer tokens cannot post). */
      bearerToken: string;
    };

export interface XClientOptions {
  /** Default https://api.x.com; a local test server in tests. */
  baseUrl?: string;
  credentials: XCredentials;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Give up on a request after this long (then XUnavailableError). Default 15 s. */
  timeoutMs?: number;
}

export interface XPostOptions {
  /** Id of the post this one answers (a thread of announcements). */
  replyTo?: string;
  /**
   * X has no idempotency key. With one, this client remembers the result for the key (and
   * shares a request still in flight), so a retry in the same process does not post twice.
   * Across processes, X's own refusal of duplicate text (XDuplicateError) is the safety net.
   */
  idempotencyKey?: string;
}

export interface XPost {
  id: string;
  text: string;
}

/** Anything X (or the way to it) refused. `status` is null when no response came back. */
export class XApiError extends Error {
  /** Worth trying again later with the same text. */
  readonly retryable: boolean = false;
  constructor(
    message: string,
    readonly status: number | null,
    /** The API's own messages (detail, errors[].message), in English. */
    readonly apiMessages: string[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'XApiError';
  }
}

/** 401: the keys or token are wrong, revoked or expired, or the clock is far off. */
export class XAuthError extends XApiError {
  constructor(status: number, apiMessages: string[]) {
    super(`X の認証に失敗しました（${status}）。認証情報とサーバーの時刻を確認してください: ${apiMessages.join(' / ')}`, status, apiMessages);
    this.name = 'XAuthError';
  }
}

/** 403 duplicate content: the same text is already on the account. Treat as posted. */
export class XDuplicateError extends XApiError {
  constructor(apiMessages: string[]) {
    super(`同じ内容の投稿が既に X にあります: ${apiMessages.join(' / ')}`, 403, apiMessages);
    this.name = 'XDuplicateError';
  }
}

/** 429: too many posts; try again at `retryAt`. */
export class XRateLimitError extends XApiError {
  override readonly retryable = true;
  constructor(
    readonly retryAt: Date,
    apiMessages: string[],
  ) {
    super(`X の投稿回数の上限に達しました。${retryAt.toISOString()} 以降に再試行できます。`, 429, apiMessages);
    this.name = 'XRateLimitError';
  }
}

/** 400 and other refusals of the request itself (other 403s too): retrying will not help. */
export class XRequestError extends XApiError {
  constructor(message: string, status: number | null, apiMessages: string[] = []) {
    super(message, status, apiMessages);
    this.name = 'XRequestError';
  }
}

/** Refused before sending: the text is over 280 weighted units (or blank). */
export class XTextTooLongError extends XRequestError {
  constructor(readonly weightedLength: number) {
    super(
      `投稿文が長すぎます（${weightedLength} / ${MAX_WEIGHTED_LENGTH}）。全角は 2、URL は 23 と数えます。短くするか truncateForPost で切り詰めてください。`,
      null,
    );
    this.name = 'XTextTooLongError';
  }
}

/** 5xx, a time-out or no connection: X is not answering; retry later. */
export class XUnavailableError extends XApiError {
  override readonly retryable = true;
  constructor(message: string, status: number | null, apiMessages: string[] = [], options?: ErrorOptions) {
    super(message, status, apiMessages, options);
    this.name = 'XUnavailableError';
  }
}

const DUPLICATE = /duplicate content/i;
/** Results kept for idempotency keys; old ones drop out first. */
const MAX_REMEMBERED = 1000;
/** When a 429 carries no reset header: X's windows are 15 minutes. */
const DEFAULT_RATE_WINDOW_MS = 15 * 60 * 1000;

/**
 * A client for posting to X as one account.
 * @example
 * const x = new XClient({ credentials: { kind: 'oauth2', bearerToken: token } })
 * try {
 *   const { id } = await x.post('【防災】避難指示を発令しました https://city.example.jp/bousai/1')
 * } catch (e) {
 *   if (e instanceof XDuplicateError) { … already posted … }
 *   else if (e instanceof XRateLimitError) { … retry at e.retryAt … }
 * }
 */
export class XClient {
  readonly #endpoint: string;
  // Private fields: credentials never show in console.log, util.inspect or JSON.stringify.
  readonly #credentials: XCredentials;
  readonly #fetch: typeof fetch;
  readonly #now: () => Date;
  readonly #timeoutMs: number;
  readonly #remembered = new Map<string, Promise<XPost>>();

  constructor(options: XClientOptions) {
    this.#endpoint = new URL('/2/tweets', options.baseUrl ?? 'https://api.x.com').href;
    this.#credentials = options.credentials;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? (() => new Date());
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  /**
   * Publishes `text` (at most 280 weighted units) and returns the new post's id and text.
   * @example
   * const { id } = await x.post('第2報です', { replyTo: firstId, idempotencyKey: 'page-42-v3' })
   */
  post(text: string, options: XPostOptions = {}): Promise<XPost> {
    const length = weightedLength(text);
    if (length > MAX_WEIGHTED_LENGTH) return Promise.reject(new XTextTooLongError(length));
    if (text.trim() === '') return Promise.reject(new XRequestError('投稿文が空です。', null));
    const key = options.idempotencyKey;
    if (key === undefined) return this.#send(text, options.replyTo);
    const known = this.#remembered.get(key);
    if (known) return known;
    const pending = this.#send(text, options.replyTo);
    this.#remembered.set(key, pending);
    // Only successes are remembered: a failure must be retryable under the same key.
    pending.catch(() => this.#remembered.delete(key));
    if (this.#remembered.size > MAX_REMEMBERED) this.#remembered.delete(this.#remembered.keys().next().value!);
    return pending;
  }

  async #send(text: string, replyTo: string | undefined): Promise<XPost> {
    const body = JSON.stringify(replyTo ? { text, reply: { in_reply_to_tweet_id: replyTo } } : { text });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    let response: Response;
    let payload: unknown;
    try {
      response = await this.#fetch(this.#endpoint, {
        method: 'POST',
        headers: { authorization: this.#authorization(), 'content-type': 'application/json', 'user-agent': 'machimado' },
        body,
        signal: controller.signal,
      });
      const raw = await response.text();
      try {
        payload = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        payload = undefined;
      }
    } catch (e) {
      const timedOut = controller.signal.aborted;
      throw new XUnavailableError(
        timedOut ? `X から ${this.#timeoutMs} ms 以内に応答がありません。` : `X に接続できません: ${(e as Error).message}`,
        null,
        [],
        { cause: e },
      );
    } finally {
      clearTimeout(timer);
    }
    return this.#interpret(response, payload);
  }

  #authorization(): string {
    const c = this.#credentials;
    if (c.kind === 'oauth2') return `Bearer ${c.bearerToken}`;
    // The JSON body is not signed: only oauth_* values and the URL's query enter the signature.
    return signRequest({
      method: 'POST',
      url: this.#endpoint,
      credentials: c,
      timestamp: Math.floor(this.#now().getTime() / 1000),
    }).authorization;
  }

  #interpret(response: Response, payload: unknown): XPost {
    const { status } = response;
    const data = (payload as { data?: { id?: unknown; text?: unknown } } | undefined)?.data;
    if (status >= 200 && status < 300) {
      if (typeof data?.id === 'string' && typeof data.text === 'string') return { id: data.id, text: data.text };
      throw new XUnavailableError(`X の応答を解釈できません（${status}）。`, status);
    }
    const messages = apiMessages(payload);
    if (status === 401) throw new XAuthError(status, messages);
    if (status === 403 && messages.some((m) => DUPLICATE.test(m))) throw new XDuplicateError(messages);
    if (status === 429) throw new XRateLimitError(this.#retryAt(response.headers), messages);
    if (status >= 500) throw new XUnavailableError(`X が一時的に利用できません（${status}）。`, status, messages);
    const reason = status === 403 ? 'X が投稿を拒否しました' : 'X が投稿リクエストを受け付けませんでした';
    throw new XRequestError(`${reason}（${status}）: ${messages.join(' / ')}`, status, messages);
  }

  /** The latest reset X announces: the 15-minute window or, when spent, the 24-hour cap. */
  #retryAt(headers: Headers): Date {
    const resets = [headers.get('x-rate-limit-reset')];
    if (headers.get('x-user-limit-24hour-remaining') === '0') resets.push(headers.get('x-user-limit-24hour-reset'));
    if (headers.get('x-app-limit-24hour-remaining') === '0') resets.push(headers.get('x-app-limit-24hour-reset'));
    const seconds = resets.map(Number).filter((n) => Number.isFinite(n) && n > 0);
    if (seconds.length === 0) return new Date(this.#now().getTime() + DEFAULT_RATE_WINDOW_MS);
    return new Date(Math.max(...seconds) * 1000);
  }
}

/** X's problem details: `detail`, `title` and each `errors[].message`. */
function apiMessages(payload: unknown): string[] {
  if (typeof payload !== 'object' || payload === null) return [];
  const p = payload as { detail?: unknown; title?: unknown; errors?: unknown };
  const out: string[] = [];
  if (Array.isArray(p.errors)) {
    for (const e of p.errors) {
      const m = (e as { message?: unknown; detail?: unknown } | null)?.message ?? (e as { detail?: unknown } | null)?.detail;
      if (typeof m === 'string') out.push(m);
    }
  }
  if (typeof p.detail === 'string' && !out.includes(p.detail)) out.push(p.detail);
  if (out.length === 0 && typeof p.title === 'string') out.push(p.title);
  return out;
}
