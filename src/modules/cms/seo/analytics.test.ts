import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { startGa4ApiServer, type Ga4FixtureRow, type TestGa4ApiServer } from '../../../../test/helpers/ga4-api-server.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../../test/helpers/platform.js';
import { cmsOf } from '../index.js';
import { Ga4DataClient, Ga4Error, parseServiceAccount } from './analytics.js';
import { seoOf } from './services.js';
import { elements } from './testing.js';
import { DomUtils } from 'htmlparser2';

const meta = { ip: '127.0.0.1', userAgent: 'test' };

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
}
const reader = keyPair();
const stranger = keyPair();
const READER = 'cms-reader@machimado-test.iam.gserviceaccount.com';
const STRANGER = 'someone-else@machimado-test.iam.gserviceaccount.com';

/** YYYYMMDD in Japan, `n` days before today. */
function jstDay(n: number): string {
  return new Date(Date.now() + 9 * 3600_000 - n * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
}

const ROWS: Ga4FixtureRow[] = [
  { date: jstDay(0), pagePath: '/sites/kaiseki/', pageTitle: '解析市', screenPageViews: 120, activeUsers: 80 },
  { date: jstDay(1), pagePath: '/sites/kaiseki/', pageTitle: '解析市', screenPageViews: 100, activeUsers: 70 },
  { date: jstDay(1), pagePath: '/sites/kaiseki/kurashi/gomi', pageTitle: 'ごみの出し方 | 解析市', screenPageViews: 300, activeUsers: 200 },
  { date: jstDay(5), pagePath: '/sites/kaiseki/bousai/', pageTitle: '防災 | 解析市', screenPageViews: 40, activeUsers: 30 },
  // Outside a 7-day window, inside 28 days.
  { date: jstDay(20), pagePath: '/sites/kaiseki/kurashi/gomi', pageTitle: 'ごみの出し方 | 解析市', screenPageViews: 1000, activeUsers: 500 },
  // Another site on the same host and property: not this site's figures.
  { date: jstDay(1), pagePath: '/sites/other/', pageTitle: '別のサイト', screenPageViews: 99999, activeUsers: 9999 },
];

const fixture = () => ({
  accounts: [{ clientEmail: READER, publicKey: reader.publicKey }, { clientEmail: STRANGER, publicKey: stranger.publicKey }],
  properties: { '123456789': { readers: [READER], rows: ROWS } },
});

const keyJson = (email: string, pem: string) => JSON.stringify({ type: 'service_account', project_id: 'machimado-test', private_key_id: 'abc123', private_key: pem, client_email: email, token_uri: 'https://oauth2.googleapis.com/token' });

describe('GA4 Data API client (service account JWT → token → runReport) against the documented contract', () => {
  let ga: TestGa4ApiServer;
  beforeAll(async () => {
    ga = await startGa4ApiServer(fixture());
  });
  afterAll(async () => {
    await ga.close();
  });

  it('gets a token with an RS256 assertion, runs a report and reuses the token', async () => {
    const parsed = parseServiceAccount(keyJson(READER, reader.privatePem));
    if (!('key' in parsed)) throw new Error(parsed.error);
    const client = new Ga4DataClient({ key: parsed.key, tokenUrl: ga.tokenUrl, apiBase: ga.url });
    const report = await client.runReport('123456789', {
      dateRanges: [{ startDate: '6daysAgo', endDate: 'today' }],
      dimensions: [{ name: 'pagePath' }],
      metrics: [{ name: 'screenPageViews' }],
      orderBys: [{ metric: { metricName: 'screenPageViews' }, desc: true }],
      dimensionFilter: { filter: { fieldName: 'pagePath', stringFilter: { matchType: 'BEGINS_WITH', value: '/sites/kaiseki/' } } },
      metricAggregations: ['TOTAL'],
    });
    expect(report.rows?.map((r) => [r.dimensionValues?.[0]?.value, r.metricValues?.[0]?.value])).toEqual([
      ['/sites/kaiseki/kurashi/gomi', '300'],
      ['/sites/kaiseki/', '220'],
      ['/sites/kaiseki/bousai/', '40'],
    ]);
    expect(report.totals?.[0]?.metricValues?.[0]?.value).toBe('560');
    await client.runReport('123456789', { dateRanges: [{ startDate: 'yesterday', endDate: 'today' }], metrics: [{ name: 'activeUsers' }] });
    expect(ga.tokensIssued()).toBe(1);
    const assertion = client.assertion().split('.');
    expect(JSON.parse(Buffer.from(assertion[0]!, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'abc123' });
    expect(JSON.parse(Buffer.from(assertion[1]!, 'base64url').toString())).toMatchObject({ iss: READER, aud: ga.tokenUrl, scope: 'https://www.googleapis.com/auth/analytics.readonly' });
  });

  it('explains in Japanese when the account may not read the property, the key is not the registered one, or the request is refused', async () => {
    const strangerKey = (parseServiceAccount(keyJson(STRANGER, stranger.privatePem)) as { key: never }).key;
    const denied = await new Ga4DataClient({ key: strangerKey, tokenUrl: ga.tokenUrl, apiBase: ga.url }).runReport('123456789', { dateRanges: [{ startDate: '6daysAgo', endDate: 'today' }], metrics: [{ name: 'screenPageViews' }] }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(Ga4Error);
    expect((denied as Ga4Error).code).toBe('PERMISSION_DENIED');
    expect((denied as Ga4Error).message).toContain('サービスアカウントのメールアドレスを「閲覧者」として追加してください');
    // Signed with another private key than the one Google holds for this account.
    const forged = (parseServiceAccount(keyJson(READER, stranger.privatePem)) as { key: never }).key;
    const bad = await new Ga4DataClient({ key: forged, tokenUrl: ga.tokenUrl, apiBase: ga.url }).accessToken().catch((e: unknown) => e);
    expect((bad as Ga4Error).code).toBe('invalid_grant');
    expect((bad as Ga4Error).message).toContain('Google がサービスアカウントのキーを受け付けませんでした');
    const good = (parseServiceAccount(keyJson(READER, reader.privatePem)) as { key: never }).key;
    const invalid = await new Ga4DataClient({ key: good, tokenUrl: ga.tokenUrl, apiBase: ga.url }).runReport('123456789', { dateRanges: [{ startDate: 'last week', endDate: 'today' }], metrics: [{ name: 'screenPageViews' }] }).catch((e: unknown) => e);
    expect((invalid as Ga4Error).code).toBe('INVALID_ARGUMENT');
    const down = await new Ga4DataClient({ key: good, tokenUrl: 'http://127.0.0.1:1/token', apiBase: ga.url, timeoutMs: 2000 }).accessToken().catch((e: unknown) => e);
    expect((down as Ga4Error).message).toBe('Google に接続できませんでした。');
  });

  it('refuses what is not a service-account key, in Japanese', () => {
    expect(parseServiceAccount('not json')).toEqual({ error: expect.stringContaining('JSON ファイルの中身をそのまま貼り付けてください') });
    expect(parseServiceAccount('{"type":"authorized_user"}')).toEqual({ error: expect.stringContaining('サービスアカウントのキー') });
    expect(parseServiceAccount(JSON.stringify({ client_email: READER }))).toEqual({ error: 'キーに private_key がありません。' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(parseServiceAccount(keyJson(READER, ec))).toEqual({ error: 'private_key が RSA の鍵ではありません。' });
  });
});

describePlatform('CMS analytics screen (C-3-20)', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  let ga: TestGa4ApiServer;
  let siteId = 0;
  let admin: HttpClient;

  beforeAll(async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    ga = await startGa4ApiServer(fixture());
    Object.assign(seoOf(cms)!.endpoints, { googleToken: ga.tokenUrl, ga4Data: ga.url });
    const org = await createOrganization(p, { name: '解析市' });
    siteId = await cms.sites.create(systemActor(p), { key: 'kaiseki', name: '解析市', pathPrefix: '/sites/kaiseki', organizationId: org }, meta);
    const user = await createStaff(p, { roles: ['site_admin'], organizationId: org });
    admin = new HttpClient(tp().baseUrl);
    await admin.login(user.loginId, user.password);
  });
  afterAll(async () => {
    await ga?.close();
  });

  it('says how to configure GA4 while the site has no property or key', async () => {
    const res = await admin.get(`/admin/cms/analytics?site=${siteId}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('アクセス解析の設定方法');
    expect(res.text).toContain('Google Analytics Data API');
    expect(res.text).toContain('未設定の項目: GA4 プロパティID、サービスアカウントのキー');
    expect(ga.requests).toHaveLength(0);
  });

  it('shows page views, users, the top pages and the days from GA4 once configured in the site settings', async () => {
    const form = await admin.get(`/admin/cms/sites/${siteId}`);
    expect(form.status).toBe(200);
    const saved = await admin.post(`/admin/cms/sites/${siteId}`, { name: '解析市', pathPrefix: '/sites/kaiseki', organizationId: String((await cmsOf(tp().platform).sites.get(siteId))!.organizationId), ga4Id: 'G-KAISEKI01', ga4PropertyId: '123456789', ga4Key: keyJson(READER, reader.privatePem) });
    expect(saved.status).toBe(303);
    expect((await admin.get(`/admin/cms/sites/${siteId}`)).text).not.toContain('BEGIN PRIVATE KEY');

    const res = await admin.get(`/admin/cms/analytics?site=${siteId}&days=7`);
    expect(res.status).toBe(200);
    const totals = elements(res.text, 'dl').find((d) => d.attribs['data-testid'] === 'analytics-totals')!;
    expect(DomUtils.getElementsByTagName('dd', totals.children, true).map((d) => DomUtils.textContent(d))).toEqual(['560', '380']);
    const pages = elements(res.text, 'table').find((t) => t.attribs['data-testid'] === 'analytics-pages')!;
    const rows = DomUtils.getElementsByTagName('tr', pages.children, true).slice(1).map((tr) => DomUtils.getElementsByTagName((name) => name === 'td' || name === 'th', tr.children, false).map((c) => DomUtils.textContent(c)));
    expect(rows).toEqual([
      ['ごみの出し方 | 解析市', '/sites/kaiseki/kurashi/gomi', '300', '200'],
      ['解析市', '/sites/kaiseki/', '220', '150'],
      ['防災 | 解析市', '/sites/kaiseki/bousai/', '40', '30'],
    ]);
    expect(res.text).not.toContain('別のサイト');
    const daily = elements(res.text, 'table').find((t) => t.attribs['data-testid'] === 'analytics-daily')!;
    const days = DomUtils.getElementsByTagName('th', daily.children, true).filter((th) => th.attribs.scope === 'row').map((th) => DomUtils.textContent(th));
    const iso = (n: number) => `${jstDay(n).slice(0, 4)}-${jstDay(n).slice(4, 6)}-${jstDay(n).slice(6)}`;
    expect(days).toEqual([iso(5), iso(1), iso(0)]);
    // 28 days take in the older visit too; the report went to the property with the prefix filter.
    const month = await admin.get(`/admin/cms/analytics?site=${siteId}&days=28`);
    expect(month.text).toContain('1,560');
    const report = ga.requests.filter((r) => r.path === '/v1beta/properties/123456789:runReport').at(-1)!.body as { dateRanges: unknown; dimensionFilter: unknown };
    expect(report.dateRanges).toEqual([{ startDate: '27daysAgo', endDate: 'today' }]);
    expect(report.dimensionFilter).toEqual({ filter: { fieldName: 'pagePath', stringFilter: { matchType: 'BEGINS_WITH', value: '/sites/kaiseki/' } } });
  });

  it('shows Google\'s refusal in Japanese when the account cannot read the property', async () => {
    const values = { name: '解析市', pathPrefix: '/sites/kaiseki', organizationId: String((await cmsOf(tp().platform).sites.get(siteId))!.organizationId), ga4Id: 'G-KAISEKI01', ga4PropertyId: '123456789' };
    await admin.get(`/admin/cms/sites/${siteId}`);
    expect((await admin.post(`/admin/cms/sites/${siteId}`, { ...values, ga4Key: keyJson(STRANGER, stranger.privatePem) })).status).toBe(303);
    const res = await admin.get(`/admin/cms/analytics?site=${siteId}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('GA4 から数値を取得できませんでした');
    expect(res.text).toContain('「閲覧者」として追加してください');
  });
});
