import { expect, it } from 'vitest';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { createOrganization, createStaff } from '../../../test/helpers/platform.js';
import { translator } from '../../core/i18n/index.js';
import type { Platform } from '../../core/platform.js';

const JAPANESE = /[\u3040-\u30ff\u4e00-\u9fff]/;

/** The text of <main> with tags removed and the common entities decoded. */
function mainText(html: string): string {
  const main = /<main\b[^>]*>([\s\S]*?)<\/main>/.exec(html)?.[1] ?? '';
  return main
    .replace(/<[^>]*>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Removes each data value (longest first, so a name inside a longer value goes with it). */
function stripValues(text: string, values: Iterable<string>): string {
  let out = text;
  for (const value of [...new Set(values)].filter(Boolean).sort((a, b) => b.length - a.length)) out = out.split(value).join(' ');
  return out;
}

/** The first Japanese run with some context, for a readable failure; undefined when there is none. */
function firstJapanese(text: string): string | undefined {
  const m = JAPANESE.exec(text);
  return m ? text.slice(Math.max(0, m.index - 40), m.index + 40).replace(/\s+/g, ' ') : undefined;
}

/**
 * Texts that other modules register without an English version (role and permission labels,
 * role descriptions, job labels). They are those modules' own data, not the admin screens' text;
 * the platform's own roles, permissions and jobs do have English and are not excused here.
 */
function untranslatedModuleTexts(p: Platform): string[] {
  const en = translator('en');
  const hasEn = (key: string) => en(key) !== key;
  const out: string[] = [];
  for (const r of p.permissions.roles()) {
    if (!r.labelEn && r.label) out.push(r.label);
    if (r.description && !hasEn(`admin.roleDescription.${r.key}`)) out.push(r.description);
  }
  for (const perm of p.permissions.permissions()) if (!perm.labelEn) out.push(perm.label);
  for (const job of p.jobs.definitions()) if (!hasEn(`admin.jobLabel.${job.name}`)) out.push(job.label);
  return out;
}

describePlatform('admin screens in English', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } }, (tp) => {
  let admin: HttpClient;
  let userId = 0;
  /** Data created here (Japanese on purpose): it is shown as entered, in either language. */
  const data: string[] = [];

  it('signs in as a system administrator and switches to English', async () => {
    const p = tp().platform;
    const a = await createStaff(p, { roles: ['system_admin'], loginId: 'en-admin', password: 'Sys-Console-Pass1', displayName: '英語 管理者' });
    data.push('英語 管理者');
    const orgName = '英語テスト市';
    const org = await createOrganization(p, { name: orgName, code: 'en-test-city' });
    data.push(orgName);
    const user = await createStaff(p, { roles: ['editor'], loginId: 'en-user', displayName: '英語 太郎', organizationId: org });
    userId = user.id;
    data.push('英語 太郎');
    await p.mail.send({ to: 'resident@example.jp', subject: '英語画面テストのお知らせ', text: '本文です' });
    data.push('英語画面テストのお知らせ');
    await p.calendar.addClosedDay({ organizationId: null, day: `${new Date().getFullYear()}-12-27`, reason: '英語画面テストの臨時閉庁' });
    data.push('英語画面テストの臨時閉庁');

    admin = new HttpClient(tp().baseUrl);
    expect((await admin.login(a.loginId, a.password)).status).toBe(303);
    const sw = await admin.get('/lang/en?next=/admin');
    expect(sw.status).toBe(303);
    expect(sw.location).toBe('/admin');
    const dash = await admin.get('/admin');
    expect(dash.text).toContain('<html lang="en"');
  });

  const pages = ['/admin/users', '/admin/users/new', '/admin/users/:id', '/admin/roles', '/admin/organizations', '/admin/audit', '/admin/jobs', '/admin/mail', '/admin/calendar', '/admin/backups', '/admin/account'];

  for (const path of pages) {
    it(`${path} has no Japanese text of its own`, async () => {
      const p = tp().platform;
      const res = await admin.get(path.replace(':id', String(userId)));
      expect(res.status).toBe(200);
      expect(res.text).toContain('<html lang="en"');
      // The language switch is deliberately in the other language; it lives outside <main>, but be sure.
      const page = res.text.split('言語: 日本語').join('');
      // Stored data: audit summaries are recorded in Japanese by design; today's holiday name
      // comes from the Cabinet Office list (Japanese only).
      const audit = (await p.audit.list({}, { limit: 1000, offset: 0 })).rows.map((r) => r.summary);
      const holiday = p.calendar.holiday(new Date());
      const text = stripValues(mainText(page), [...data, ...audit, ...(holiday ? [holiday] : []), ...untranslatedModuleTexts(p)]);
      expect(mainText(page).length).toBeGreaterThan(0);
      expect(firstJapanese(text), path).toBeUndefined();
      const title = /<title>([^<]*)<\/title>/.exec(page)?.[1] ?? '';
      expect(firstJapanese(title), `${path} <title>`).toBeUndefined();
    });
  }

  it('validation messages the admin screens produce themselves are English too', async () => {
    await admin.get('/admin/calendar');
    const closed = await admin.post('/admin/calendar/closed', { day: 'not-a-date', reason: '' });
    expect(closed.status).toBe(422);
    expect(mainText(closed.text)).toContain('Enter a reason.');
    expect(firstJapanese(stripValues(mainText(closed.text), data))).toBeUndefined();

    const hours = await admin.post('/admin/calendar/hours', { 'opens-1-0': '09:00', 'closes-1-0': '' });
    expect(hours.status).toBe(422);
    expect(mainText(hours.text)).toContain('Enter the closing time for Monday.');
    expect(firstJapanese(stripValues(mainText(hours.text), data))).toBeUndefined();

    await admin.get(`/admin/users/${userId}`);
    const del = await admin.post(`/admin/users/${userId}/delete`, {});
    expect(del.status).toBe(422);
    expect(mainText(del.text)).toContain('Tick the confirmation box to delete.');
    expect(firstJapanese(stripValues(mainText(del.text), [...data, ...untranslatedModuleTexts(tp().platform)]))).toBeUndefined();
  });

  it('the same screens are Japanese again after switching back', async () => {
    await admin.get('/lang/ja?next=/admin');
    const users = await admin.get('/admin/users');
    expect(users.text).toContain('<html lang="ja"');
    expect(users.text).toContain('ユーザ一覧（');
    const calendar = await admin.get('/admin/calendar');
    expect(calendar.text).toContain('受付時間（全組織共通（標準））');
    expect(calendar.text).toContain('<th scope="row">月曜日</th>');
  });
});
