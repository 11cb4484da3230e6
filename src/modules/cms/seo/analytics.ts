/**
 * C-3-20: page-view figures from Google Analytics 4 inside the CMS. A service account's key signs
 * a JWT (RS256), Google's token endpoint exchanges it for an access token (OAuth 2.0 JWT bearer
 * grant, RFC 7523), and the GA4 Data API's `runReport` returns the figures. The measurement
 * itself is Google's (C-3-21): the CMS counts nothing of its own.
 */
import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import type { Site } from '../sites.js';
import type { SiteSecrets } from './secrets.js';
import type { SeoEndpoints } from './services.js';

/** The fields of a Google service-account key file (JSON) this client uses. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
}

export const GA4_SCOPE = 'https://www.googleapis.com/auth/analytics.readonly';

/**
 * Reads a pasted service-account key file; a Japanese message when it is not one.
 * @example parseServiceAccount(fs.readFileSync('key.json', 'utf8'))
 */
export function parseServiceAccount(text: string): { key: ServiceAccountKey } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { error: 'サービスアカウントのキーは、Google Cloud でダウンロードした JSON ファイルの中身をそのまま貼り付けてください。' };
  }
  const r = raw as Partial<ServiceAccountKey> & { type?: unknown };
  if (typeof r !== 'object' || r === null || (r.type !== undefined && r.type !== 'service_account')) return { error: 'サービスアカウントのキー（"type": "service_account"）ではありません。' };
  if (typeof r.client_email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(r.client_email)) return { error: 'キーに client_email（サービスアカウントのメールアドレス）がありません。' };
  if (typeof r.private_key !== 'string') return { error: 'キーに private_key がありません。' };
  try {
    const k = createPrivateKey(r.private_key);
    if (k.asymmetricKeyType !== 'rsa') return { error: 'private_key が RSA の鍵ではありません。' };
  } catch {
    return { error: 'private_key を読み取れません。JSON ファイルの中身を改変せずに貼り付けてください。' };
  }
  return { key: { client_email: r.client_email, private_key: r.private_key, ...(typeof r.private_key_id === 'string' ? { private_key_id: r.private_key_id } : {}) } };
}

/** A refusal from Google (or no answer); `message` is Japanese and safe to show to staff. */
export class Ga4Error extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    /** Google's status word (PERMISSION_DENIED, invalid_grant…). */
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'Ga4Error';
  }
}

export interface RunReportRequest {
  dateRanges: Array<{ startDate: string; endDate: string }>;
  dimensions?: Array<{ name: string }>;
  metrics: Array<{ name: string }>;
  dimensionFilter?: unknown;
  orderBys?: Array<{ desc?: boolean; metric?: { metricName: string }; dimension?: { dimensionName: string } }>;
  limit?: number;
  metricAggregations?: Array<'TOTAL' | 'MAXIMUM' | 'MINIMUM'>;
}

interface ReportRow {
  dimensionValues?: Array<{ value?: string }>;
  metricValues?: Array<{ value?: string }>;
}

export interface RunReportResponse {
  dimensionHeaders?: Array<{ name: string }>;
  metricHeaders?: Array<{ name: string; type?: string }>;
  rows?: ReportRow[];
  totals?: ReportRow[];
  rowCount?: number;
}

export interface Ga4ClientOptions {
  key: ServiceAccountKey;
  /** Google's token endpoint (also the JWT's audience). */
  tokenUrl?: string;
  /** GA4 Data API base. */
  apiBase?: string;
  fetch?: typeof fetch;
  now?: () => Date;
  timeoutMs?: number;
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

const GOOGLE_STATUS: Record<string, string> = {
  PERMISSION_DENIED: 'このサービスアカウントには GA4 プロパティを読む権限がありません。GA4 の「プロパティのアクセス管理」で、サービスアカウントのメールアドレスを「閲覧者」として追加してください。',
  UNAUTHENTICATED: 'Google の認証が通りませんでした。サービスアカウントのキーを確認してください。',
  NOT_FOUND: 'GA4 のプロパティが見つかりません。プロパティID（数字）を確認してください。',
  INVALID_ARGUMENT: 'GA4 がレポートの条件を受け付けませんでした。',
  RESOURCE_EXHAUSTED: 'GA4 Data API の利用上限に達しました。しばらくしてから開き直してください。',
  invalid_grant: 'Google がサービスアカウントのキーを受け付けませんでした（キーが無効・削除済み、またはサーバーの時刻のずれ）。',
  invalid_client: 'Google がサービスアカウントを認識しませんでした。キーを作り直して貼り付けてください。',
};

/**
 * A GA4 Data API client for one service account: token cached until shortly before it expires.
 * @example
 * const ga = new Ga4DataClient({ key })
 * const report = await ga.runReport('123456789', { dateRanges: [{ startDate: '28daysAgo', endDate: 'today' }], metrics: [{ name: 'screenPageViews' }] })
 */
export class Ga4DataClient {
  readonly #key: ServiceAccountKey;
  readonly #signingKey: KeyObject;
  readonly #tokenUrl: string;
  readonly #apiBase: string;
  readonly #fetch: typeof fetch;
  readonly #now: () => Date;
  readonly #timeoutMs: number;
  #token: { value: string; expiresAt: number } | null = null;

  constructor(options: Ga4ClientOptions) {
    this.#key = options.key;
    this.#signingKey = createPrivateKey(options.key.private_key);
    this.#tokenUrl = options.tokenUrl ?? 'https://oauth2.googleapis.com/token';
    this.#apiBase = options.apiBase ?? 'https://analyticsdata.googleapis.com';
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? (() => new Date());
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** The signed JWT assertion (RS256) for the token request. */
  assertion(): string {
    const iat = Math.floor(this.#now().getTime() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', ...(this.#key.private_key_id ? { kid: this.#key.private_key_id } : {}) };
    const claims = { iss: this.#key.client_email, scope: GA4_SCOPE, aud: this.#tokenUrl, iat, exp: iat + 3600 };
    const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(unsigned).sign(this.#signingKey);
    return `${unsigned}.${b64url(signature)}`;
  }

  async #request(url: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    try {
      const res = await this.#fetch(url, { ...init, signal: controller.signal });
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.status, body };
    } catch {
      throw new Ga4Error(controller.signal.aborted ? 'Google から時間内に応答がありませんでした。' : 'Google に接続できませんでした。', null);
    } finally {
      clearTimeout(timer);
    }
  }

  /** An access token for the Data API, from the cache while it has a minute left. */
  async accessToken(): Promise<string> {
    if (this.#token && this.#token.expiresAt - 60_000 > this.#now().getTime()) return this.#token.value;
    const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: this.assertion() });
    const { status, body } = await this.#request(this.#tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    const b = body as { access_token?: unknown; expires_in?: unknown; error?: unknown } | undefined;
    if (status !== 200 || typeof b?.access_token !== 'string') {
      const code = typeof b?.error === 'string' ? b.error : null;
      throw new Ga4Error((code && GOOGLE_STATUS[code]) || `Google のトークン取得に失敗しました（${status}）。`, status, code);
    }
    const seconds = typeof b.expires_in === 'number' ? b.expires_in : 3600;
    this.#token = { value: b.access_token, expiresAt: this.#now().getTime() + seconds * 1000 };
    return b.access_token;
  }

  /** POST /v1beta/properties/{propertyId}:runReport. */
  async runReport(propertyId: string, request: RunReportRequest): Promise<RunReportResponse> {
    if (!/^\d+$/.test(propertyId)) throw new Ga4Error('GA4 のプロパティIDは数字です。', null, 'INVALID_ARGUMENT');
    const token = await this.accessToken();
    const url = `${this.#apiBase}/v1beta/properties/${propertyId}:runReport`;
    const { status, body } = await this.#request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(request) });
    if (status === 401) this.#token = null;
    if (status !== 200) {
      const e = (body as { error?: { status?: unknown; message?: unknown } } | undefined)?.error;
      const code = typeof e?.status === 'string' ? e.status : null;
      throw new Ga4Error((code && GOOGLE_STATUS[code]) || `GA4 Data API がエラーを返しました（${status}）。`, status, code);
    }
    return (body ?? {}) as RunReportResponse;
  }
}

export interface PageViews {
  days: number;
  totals: { views: number; users: number };
  pages: Array<{ path: string; title: string; views: number; users: number }>;
  daily: Array<{ date: string; views: number; users: number }>;
}

export type AnalyticsResult = { state: 'not-configured'; missing: string[] } | { state: 'error'; message: string } | { state: 'ok'; report: PageViews };

const num = (v: string | undefined) => Number(v ?? 0) || 0;

/** Reads a site's GA4 settings and secrets and turns runReport answers into the screen's figures. */
export class AnalyticsService {
  private readonly clients = new Map<string, Ga4DataClient>();

  constructor(private readonly deps: { secrets: SiteSecrets; endpoints: SeoEndpoints }) {}

  private client(key: ServiceAccountKey): Ga4DataClient {
    // One client per key and endpoint, so the access token is reused between screens.
    const id = `${key.client_email}|${key.private_key_id ?? ''}|${this.deps.endpoints.googleToken}|${this.deps.endpoints.ga4Data}`;
    let c = this.clients.get(id);
    if (!c) {
      if (this.clients.size >= 50) this.clients.clear();
      c = new Ga4DataClient({ key, tokenUrl: this.deps.endpoints.googleToken, apiBase: this.deps.endpoints.ga4Data });
      this.clients.set(id, c);
    }
    return c;
  }

  /** Page views of the last `days` days (today included) for the site's pages. */
  async pageViews(site: Site, days: number): Promise<AnalyticsResult> {
    const key = await this.deps.secrets.get<ServiceAccountKey>(site.id, 'ga4');
    const missing = [...(site.settings.ga4PropertyId ? [] : ['ga4PropertyId']), ...(key ? [] : ['ga4Key'])];
    if (missing.length || !key || !site.settings.ga4PropertyId) return { state: 'not-configured', missing };
    const range = [{ startDate: `${days - 1}daysAgo`, endDate: 'today' }];
    const metrics = [{ name: 'screenPageViews' }, { name: 'activeUsers' }];
    // A site under a path prefix shares its host's property with others: only its own paths count.
    const dimensionFilter = site.pathPrefix ? { filter: { fieldName: 'pagePath', stringFilter: { matchType: 'BEGINS_WITH', value: `${site.pathPrefix}/` } } } : undefined;
    try {
      const ga = this.client(key);
      const [byPage, byDay] = await Promise.all([
        ga.runReport(site.settings.ga4PropertyId, { dateRanges: range, dimensions: [{ name: 'pagePath' }, { name: 'pageTitle' }], metrics, dimensionFilter, orderBys: [{ metric: { metricName: 'screenPageViews' }, desc: true }], limit: 20, metricAggregations: ['TOTAL'] }),
        ga.runReport(site.settings.ga4PropertyId, { dateRanges: range, dimensions: [{ name: 'date' }], metrics, dimensionFilter, orderBys: [{ dimension: { dimensionName: 'date' } }], limit: 400 }),
      ]);
      const total = byPage.totals?.[0]?.metricValues ?? [];
      return {
        state: 'ok',
        report: {
          days,
          totals: { views: num(total[0]?.value), users: num(total[1]?.value) },
          pages: (byPage.rows ?? []).map((r) => ({ path: r.dimensionValues?.[0]?.value ?? '', title: r.dimensionValues?.[1]?.value ?? '', views: num(r.metricValues?.[0]?.value), users: num(r.metricValues?.[1]?.value) })),
          daily: (byDay.rows ?? []).map((r) => {
            const d = r.dimensionValues?.[0]?.value ?? '';
            return { date: /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : d, views: num(r.metricValues?.[0]?.value), users: num(r.metricValues?.[1]?.value) };
          }),
        },
      };
    } catch (e) {
      if (e instanceof Ga4Error) return { state: 'error', message: e.message };
      throw e;
    }
  }
}
