/**
 * Forms against IPA's classes (see test/security/README.md): XSS (5), HTTP header injection (7),
 * mail header injection (8) and SQL injection (1) through every field a resident or staff member
 * can fill, on both engines.
 */
import { expect, it } from 'vitest';
import { Parser } from 'htmlparser2';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../test/helpers/platform.js';
import { XSS_IMG, XSS_SCRIPT } from '../../../test/security/helpers.js';
import { createSampleForm } from './fixtures.js';
import { formsOf } from './services.js';
import { confirmFields, cookieOf, fieldsByLabel, openAndConfirm, submitForm, validAnswers } from './testing.js';

const EVIL = 'evil@attacker.example';

/**
 * No live markup from the payloads, as a browser would parse the page: no element with an event
 * handler attribute, no script running alert(1), no <img src=x>.
 */
function expectInert(html: string, where: string) {
  const found: string[] = [];
  let inScript = false;
  const parser = new Parser({
    onopentag(name, attrs) {
      for (const a of Object.keys(attrs)) if (a.toLowerCase().startsWith('on')) found.push(`<${name} ${a}>`);
      if (name === 'img' && attrs.src === 'x') found.push('<img src=x>');
      inScript = name === 'script';
    },
    ontext(text) {
      if (inScript && text.includes('alert(1)')) found.push('<script>alert(1)');
    },
    onclosetag() {
      inScript = false;
    },
  });
  parser.write(html);
  parser.end();
  expect(found, where).toEqual([]);
}

describePlatform('forms: security', { smtp: true, env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000', RATE_LIMIT_PUBLIC_POST_PER_MINUTE: '10000' } }, (tp, engine) => {
  it('XSS: payloads in every field a resident fills come out escaped on the confirmation, completion, staff and export screens', async () => {
    const p = tp().platform;
    const org = await createOrganization(p, { name: `安全市${engine}` });
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `xss-${engine}`, organizationId: org, settings: { minFillSeconds: '0', replyEnabled: '1' } });
    const f = fieldsByLabel(questions);
    const client = new HttpClient(tp().baseUrl);
    const payload = `${XSS_SCRIPT}${XSS_IMG}`;
    const answers = validAnswers(questions, { お名前: XSS_SCRIPT, ご用件: 'その他', その他の内容: payload, '住所:address': payload });
    // Choice questions accept only their own options; a forged choice is refused, not echoed raw.
    const forged = await openAndConfirm(client, form.slug, { ...answers, [f['利用する施設']!]: payload });
    expect(forged.status).toBe(422);
    expectInert(forged.text, 'forged choice');
    expect(forged.text).toContain('&lt;script&gt;');
    const { confirm, submit } = await submitForm(client, form.slug, answers);
    expectInert(confirm.text, 'confirmation');
    expect(confirm.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(confirm.headers.get('content-security-policy')).toMatch(/script-src 'self' 'nonce-/);
    const done = await client.get(submit.location!);
    expectInert(done.text, 'completion');

    const staff = await createStaff(p, { roles: ['forms_staff'], organizationId: org });
    const admin = new HttpClient(tp().baseUrl);
    await admin.login(staff.loginId, staff.password);
    const list = await admin.get(`/admin/forms/${form.id}/responses`);
    expectInert(list.text, 'responses list');
    const rid = (await p.db.selectFrom('form_responses').select('id').where('form_id', '=', form.id).executeTakeFirstOrThrow()).id;
    const detail = await admin.get(`/admin/forms/${form.id}/responses/${rid}`);
    expectInert(detail.text, 'response detail');
    expect(detail.text).toContain('&lt;script&gt;');
    // A CSV is text, never HTML: served as text/csv with nosniff, as an attachment.
    const csv = await fetch(`${tp().baseUrl}/admin/forms/${form.id}/responses/export.csv`, { headers: { cookie: cookieOf(admin) } });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=UTF-8');
    expect(csv.headers.get('x-content-type-options')).toBe('nosniff');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment;/);
  });

  it('XSS: what staff type into the builder (titles, questions, choices, help, completion text) is escaped on the public pages', async () => {
    const p = tp().platform;
    const actor = systemActor(p);
    const payload = `${XSS_SCRIPT}${XSS_IMG}`;
    const { form } = await createSampleForm(p, actor, {
      slug: `xss-staff-${engine}`,
      title: `申込み${payload}`,
      questions: [
        { type: 'heading', label: `見出し${payload}`, help: `説明${payload}` },
        { type: 'radio', label: `質問${payload}`, help: payload, required: true, options: `${payload}\nふつうの選択肢` },
        { type: 'text', label: 'お名前', required: true },
      ],
      settings: { minFillSeconds: '0', description: payload, completionMessage: payload },
    });
    const client = new HttpClient(tp().baseUrl);
    const page = await client.get(`/forms/${form.slug}`);
    expectInert(page.text, 'public form');
    expect(page.text).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
    const qs = await formsOf(p).forms.questions(form.id);
    const { confirm, submit } = await submitForm(client, form.slug, { [`q${qs[1]!.id}`]: payload, [`q${qs[2]!.id}`]: '山田' });
    expectInert(confirm.text, 'confirmation');
    expectInert((await client.get(submit.location!)).text, 'completion');
    const closed = await (async () => {
      await formsOf(p).forms.close(actor, (await formsOf(p).forms.get(form.id))!, { actor });
      return client.get(`/forms/${form.slug}`);
    })();
    expectInert(closed.text, 'closed page');
  });

  it('mail header injection: an e-mail answer with CR/LF or several addresses is refused at the field; nothing reaches SMTP', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `mailinj-${engine}`, settings: { minFillSeconds: '0', replyEnabled: '1' } });
    const f = fieldsByLabel(questions);
    const client = new HttpClient(tp().baseUrl);
    const before = Number((await p.db.selectFrom('mail_messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    for (const email of [`victim@example.jp\r\nBcc: ${EVIL}`, `victim@example.jp\nBcc: ${EVIL}`, `victim@example.jp, ${EVIL}`, `victim@example.jp;${EVIL}`, `"V" <victim@example.jp>, <${EVIL}>`, `victim@example.jp%0d%0aBcc:${EVIL}`]) {
      const res = await openAndConfirm(client, form.slug, validAnswers(questions, { メールアドレス: email }));
      expect(res.status, JSON.stringify(email)).toBe(422);
      expect(res.text).toContain('メールアドレスの形式が正しくありません');
      // Forged straight into the confirmation's hidden fields: checked again at "送信する".
      const ok = await openAndConfirm(client, form.slug, validAnswers(questions));
      const fields = confirmFields(ok.text);
      fields[f['メールアドレス']!] = email;
      expect((await client.post(`/forms/${form.slug}/submit`, fields)).status, JSON.stringify(email)).toBe(422);
    }
    expect(Number((await p.db.selectFrom('mail_messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)).toBe(before);
  });

  it('mail header injection: answers put into the subject are flattened to one line; the reply has one recipient and no added header', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `subject-${engine}`, settings: { minFillSeconds: '0', replyEnabled: '1', replySubject: '{{回答:お名前}}様の申込み（{{受付番号}}）', notifyEmails: 'staff@city.example.jp' } });
    const client = new HttpClient(tp().baseUrl);
    const name = `太\r\nBcc: ${EVIL}\r\nX-I: 1`;
    // A name cannot hold a line break (one-line field): the break becomes a space.
    const { submit } = await submitForm(client, form.slug, validAnswers(questions, { お名前: name, メールアドレス: 'hanako@example.jp' }));
    expect(submit.status).toBe(303);
    await p.jobs.drain();
    const reply = await tp().smtp!.waitFor((m) => m.to.includes('hanako@example.jp'));
    expect(reply.to).toEqual(['hanako@example.jp']);
    expect(reply.headers['bcc']).toBeUndefined();
    expect(reply.headers['x-i']).toBeUndefined();
    expect(reply.subject).toMatch(/^太 Bcc: evil@attacker\.example X-I: 1様の申込み（\d{4}-\d{6}-[A-Z]）$/);
    for (const m of tp().smtp!.messages) expect(m.to).not.toContain(EVIL);
  });

  it('HTTP header injection: download names and redirects cannot carry a line break or another header', async () => {
    const p = tp().platform;
    const org = await createOrganization(p, { name: `ヘッダ市${engine}` });
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `hdr-${engine}`, title: '申込み\r\nSet-Cookie: a=b"; filename=evil.exe', organizationId: org, settings: { minFillSeconds: '0' } });
    expect(form.title).toBe('申込み Set-Cookie: a=b"; filename=evil.exe');
    const client = new HttpClient(tp().baseUrl);
    const f = fieldsByLabel(questions);
    // A file whose name tries to end the header.
    const page = await client.get(`/forms/${form.slug}`);
    const body = new FormData();
    body.set('_csrf', client.lastCsrf);
    body.set('_ts', /name="_ts" value="([^"]+)"/.exec(page.text)![1]!);
    body.set('website', '');
    for (const [k, v] of Object.entries(validAnswers(questions))) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    body.set(f['申請書の写し']!, new Blob([new TextEncoder().encode('%PDF-1.4\n%%EOF\n')], { type: 'application/pdf' }), 'a\r\nX-Evil: 1.pdf');
    const confirm = await client.request('POST', `/forms/${form.slug}/confirm`, { body });
    expect(confirm.status).toBe(200);
    expect((await client.post(`/forms/${form.slug}/submit`, confirmFields(confirm.text))).status).toBe(303);
    const staff = await createStaff(p, { roles: ['forms_staff'], organizationId: org });
    const admin = new HttpClient(tp().baseUrl);
    await admin.login(staff.loginId, staff.password);
    const rid = (await p.db.selectFrom('form_responses').select('id').where('form_id', '=', form.id).executeTakeFirstOrThrow()).id;
    const fid = (await p.db.selectFrom('form_files').select('id').where('response_id', '=', rid).executeTakeFirstOrThrow()).id;
    const file = await admin.get(`/admin/forms/${form.id}/responses/${rid}/files/${fid}`);
    expect(file.status).toBe(200);
    expect(file.headers.get('x-evil')).toBeNull();
    expect(file.headers.get('content-type')).toBe('application/pdf');
    expect(file.headers.get('content-disposition')).not.toMatch(/[\r\n]/);
    const csv = await admin.get(`/admin/forms/${form.id}/responses/export.csv`);
    expect(csv.headers.get('set-cookie')).toBeNull();
    // Exactly the two filename parameters: the title's quote and semicolon cannot open a third.
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="[^"]*"; filename\*=UTF-8''[^\s";]+$/);
    // The completion redirect takes only a number for the site.
    const confirm2 = await openAndConfirm(client, form.slug, validAnswers(questions), { _site: '1\r\nLocation: http://evil.example' });
    const sent = await client.post(`/forms/${form.slug}/submit`, { ...confirmFields(confirm2.text), _site: '1\r\nLocation: http://evil.example' });
    expect(sent.status).toBe(303);
    expect(sent.location).toMatch(new RegExp(`^/forms/${form.slug}/done\\?r=[0-9A-Za-z._-]+$`));
    expect((await client.get(`/forms/${form.slug}/done?r=1%0d%0aX-Evil:%201`)).status).toBe(404);
  });

  it('SQL injection: the responses search and filters treat input as text', async () => {
    const p = tp().platform;
    const org = await createOrganization(p, { name: `検索市${engine}` });
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `sqli-${engine}`, organizationId: org, settings: { minFillSeconds: '0' } });
    await submitForm(new HttpClient(tp().baseUrl), form.slug, validAnswers(questions, { お名前: "O'Brien 100%" }));
    await submitForm(new HttpClient(tp().baseUrl), form.slug, validAnswers(questions, { お名前: '普通の名前' }));
    const staff = await createStaff(p, { roles: ['forms_staff'], organizationId: org });
    const admin = new HttpClient(tp().baseUrl);
    await admin.login(staff.loginId, staff.password);
    const search = async (q: string) => (await admin.get(`/admin/forms/${form.id}/responses?q=${encodeURIComponent(q)}`)).text;
    expect(await search("' OR '1'='1")).toContain('回答（0件）');
    expect(await search('%')).toContain('回答（1件）');
    expect(await search('_')).toContain('回答（0件）');
    expect(await search("O'Brien")).toContain('回答（1件）');
    expect(await search("'; DROP TABLE form_responses; --")).toContain('回答（0件）');
    expect((await admin.get(`/admin/forms/${form.id}/responses?from=2026-01-01'--&status=new' OR 1=1`)).text).toContain('回答（2件）');
    expect(await p.db.selectFrom('form_responses').select('id').where('form_id', '=', form.id).execute()).toHaveLength(2);
    expect((await admin.get(`/admin/forms/${form.id}/responses/99999999999`)).status).toBe(404);
  });
});

describePlatform('forms: the public-post rate limit applies to form posts', { env: { RATE_LIMIT_PUBLIC_POST_PER_MINUTE: '3' } }, (tp, engine) => {
  it('the fourth post within a minute from one address is refused with 429 and Retry-After', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `rate-${engine}`, settings: { minFillSeconds: '0' } });
    const client = new HttpClient(tp().baseUrl);
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof openAndConfirm>> | null = null;
    for (let i = 0; i < 4; i++) {
      last = await openAndConfirm(client, form.slug, validAnswers(questions));
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
