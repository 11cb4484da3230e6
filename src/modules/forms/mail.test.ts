import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../test/helpers/platform.js';
import { createSampleForm } from './fixtures.js';
import { formsCliCommands } from './cli.js';
import { DEMO_POSTAL_FILE } from './postal/index.js';
import { formsOf } from './services.js';
import { submitForm, validAnswers } from './testing.js';

// Nothing listens on port 1: every delivery attempt fails, as with an SMTP server that is down.
describePlatform('forms: a failed mail never loses the response, is retried and shows', { env: { SMTP_URL: 'smtp://127.0.0.1:1', MAIL_MAX_ATTEMPTS: '2', RATE_LIMIT_LOGIN_PER_MINUTE: '1000', RATE_LIMIT_PUBLIC_POST_PER_MINUTE: '1000' } }, (tp, engine) => {
  it('the response is stored with its number; the reply waits in the queue, is retried, and its state is on the response', async () => {
    const p = tp().platform;
    const org = await createOrganization(p, { name: `送信失敗市${engine}` });
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `mailfail-${engine}`, organizationId: org, settings: { minFillSeconds: '0', replyEnabled: '1' } });
    const { submit } = await submitForm(new HttpClient(tp().baseUrl), form.slug, validAnswers(questions));
    expect(submit.status).toBe(303);
    const response = await p.db.selectFrom('form_responses').select(['id', 'reply_mail_id']).where('form_id', '=', form.id).executeTakeFirstOrThrow();
    expect(response.reply_mail_id).not.toBeNull();
    await p.jobs.drain();
    const first = await p.mail.get(response.reply_mail_id!);
    expect(first).toMatchObject({ status: 'queued', attempts: 1 });
    expect(first!.last_error).toBeTruthy();

    const staff = await createStaff(p, { roles: ['forms_staff'], organizationId: org });
    const client = new HttpClient(tp().baseUrl);
    await client.login(staff.loginId, staff.password);
    const detail = await client.get(`/admin/forms/${form.id}/responses/${response.id}`);
    expect(detail.text).toContain('自動返信: 送信待ち（自動で再送します）');

    // The job's retry, after its back-off: the last attempt marks it failed, still on the response.
    const later = new Date(Date.now() + 2 * 3600_000);
    await p.jobs.drain(later);
    expect(await p.mail.get(response.reply_mail_id!)).toMatchObject({ status: 'failed', attempts: 2 });
    const after = await client.get(`/admin/forms/${form.id}/responses/${response.id}`);
    expect(after.text).toContain('自動返信: 送信失敗（送信メール画面から再送できます）');
    expect(await p.db.selectFrom('form_answers').select('id').where('response_id', '=', response.id).execute()).not.toHaveLength(0);
  });
});

describePlatform('forms: postal code data and survey results', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000', RATE_LIMIT_PUBLIC_POST_PER_MINUTE: '1000' } }, (tp, engine) => {
  it('an administrator imports KEN_ALL on the admin screen (audited); a file that is not KEN_ALL changes nothing', async () => {
    const p = tp().platform;
    const { postal } = formsOf(p);
    // The table serves every organisation's forms: a municipality's site administrator may not replace it.
    const scoped = new HttpClient(tp().baseUrl);
    const { createOrganization } = await import('../../../test/helpers/platform.js');
    const town = await createStaff(p, { roles: ['site_admin'], organizationId: await createOrganization(p, { name: '郵便テスト町' }) });
    await scoped.login(town.loginId, town.password);
    await scoped.get('/admin/forms/postal');
    expect((await scoped.post('/admin/forms/postal', {})).status).toBe(403);
    const staff = await createStaff(p, { roles: ['system_admin'] });
    const client = new HttpClient(tp().baseUrl);
    await client.login(staff.loginId, staff.password);
    const page = await client.get('/admin/forms/postal');
    expect(page.status).toBe(200);
    const upload = async (name: string, bytes: Uint8Array<ArrayBuffer>) => {
      const body = new FormData();
      body.set('_csrf', client.lastCsrf);
      body.set('file', new Blob([bytes], { type: 'text/csv' }), name);
      return client.request('POST', '/admin/forms/postal', { body });
    };
    const ok = await upload('utf_ken_all.csv', new Uint8Array(readFileSync(DEMO_POSTAL_FILE)));
    expect(ok.status).toBe(303);
    expect(ok.location).toBe('/admin/forms/postal?imported=16');
    expect((await client.get(ok.location!)).text).toContain('16件の郵便番号を取り込みました。');
    expect(await postal.lookup('000-0006')).toEqual({ prefecture: 'みどり県', city: 'あおば市', town: '山の手' });
    const bad = await upload('users.csv', new TextEncoder().encode('氏名,メール\n山田,a@example.jp\n'));
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('郵便番号データ（KEN_ALL）の形式ではありません');
    expect(await postal.count()).toBe(16);
    const audit = await p.db.selectFrom('audit_log').select('summary').where('action', '=', 'forms.postal.import').execute();
    expect(audit.map((a) => a.summary)).toEqual(['郵便番号データを取り込みました（16件、utf_ken_all.csv）']);
    // Someone without the permission cannot reach the screen.
    const editor = await createStaff(p, { roles: ['editor'] });
    const other = new HttpClient(tp().baseUrl);
    await other.login(editor.loginId, editor.password);
    expect((await other.get('/admin/forms/postal')).status).toBe(403);
  });

  it('the CLI imports a KEN_ALL file too, and says which file is missing', async () => {
    const p = tp().platform;
    const cmd = formsCliCommands.find((c) => c.name === 'forms:postal-import')!;
    const errors: string[] = [];
    const origError = console.error;
    const origLog = console.log;
    console.error = (...a: unknown[]) => void errors.push(a.join(' '));
    console.log = () => undefined;
    try {
      expect(await cmd.run(p, ['/no/such/ken_all.csv'])).toBe(2);
      expect(errors.join('\n')).toContain('ファイルが見つかりません');
      expect(await cmd.run(p, [DEMO_POSTAL_FILE])).toBe(0);
    } finally {
      console.error = origError;
      console.log = origLog;
    }
    expect(await formsOf(p).postal.count()).toBe(16);
  });

  it('a survey shows its results: how often each choice was picked', async () => {
    const p = tp().platform;
    const org = await createOrganization(p, { name: `集計市${engine}` });
    const { form, questions } = await createSampleForm(p, systemActor(p), {
      slug: `survey-${engine}`,
      organizationId: org,
      questions: [
        { type: 'radio', label: '満足度', required: true, options: '満足\nふつう\n不満' },
        { type: 'checkbox', label: 'よく使う窓口', options: '市民課\n税務課\n福祉課' },
      ],
      settings: { minFillSeconds: '0', kind: 'survey' },
    });
    const [satisfaction, desks] = questions;
    for (const [s, d] of [['満足', ['市民課']], ['満足', ['市民課', '税務課']], ['不満', []]] as const) {
      await submitForm(new HttpClient(tp().baseUrl), form.slug, { [`q${satisfaction!.id}`]: s, [`q${desks!.id}`]: [...d] });
    }
    const staff = await createStaff(p, { roles: ['forms_staff'], organizationId: org });
    const client = new HttpClient(tp().baseUrl);
    await client.login(staff.loginId, staff.password);
    const summary = await client.get(`/admin/forms/${form.id}/summary`);
    expect(summary.status).toBe(200);
    expect(summary.text).toContain('回答 3件');
    expect(summary.text).toContain('<tr><th scope="row">満足</th><td>2</td><td>66.7%</td></tr>');
    expect(summary.text).toContain('<tr><th scope="row">不満</th><td>1</td><td>33.3%</td></tr>');
    expect(summary.text).toContain('<tr><th scope="row">税務課</th><td>1</td><td>33.3%</td></tr>');
    expect(summary.text).toContain('<tr><th scope="row">福祉課</th><td>0</td><td>0.0%</td></tr>');
  });
});
