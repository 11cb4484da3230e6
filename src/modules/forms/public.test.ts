import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { systemActor } from '../../../test/helpers/platform.js';
import { SENSITIVE_WIPED } from '../../core/mail/index.js';
import { createSampleForm } from './fixtures.js';
import { formsOf } from './services.js';
import { confirmFields, fieldsByLabel, hiddenValue, openAndConfirm, submitForm, validAnswers } from './testing.js';

const count = async (p: import('../../core/platform.js').Platform, table: 'form_responses' | 'form_answers' | 'mail_messages' | 'form_files', formId?: number) => {
  let q = p.db.selectFrom(table as 'form_responses').select((eb) => eb.fn.countAll<number>().as('n'));
  if (formId !== undefined && table === 'form_responses') q = q.where('form_id', '=', formId);
  return Number((await q.executeTakeFirstOrThrow()).n);
};

describePlatform('forms: the resident-facing flow', { smtp: true, env: { RATE_LIMIT_PUBLIC_POST_PER_MINUTE: '10000' } }, (tp, engine) => {
  const fast = { minFillSeconds: '0' };

  it('input → confirmation → completion with a reception number; the auto-reply and the staff notification arrive by SMTP', async () => {
    const p = tp().platform;
    await formsOf(p).postal.seedDemo({ actor: systemActor(p) });
    const { form, questions } = await createSampleForm(p, systemActor(p), {
      slug: `flow-${engine}`,
      title: '公民館の利用申込み',
      settings: { ...fast, replyEnabled: '1', replySubject: '【{{フォーム名}}】受付番号 {{受付番号}}', replyBody: '{{回答:お名前}} 様\n受付番号: {{受付番号}}\n{{回答一覧}}', notifyEmails: 'staff@city.example.jp', completionMessage: '3開庁日以内にご連絡します。' },
    });
    const client = new HttpClient(tp().baseUrl);
    const page = await client.get(`/forms/${form.slug}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.text).toContain('<h1>公民館の利用申込み</h1>');
    expect(page.text).toContain('aria-current="step"');
    // Choice groups are fieldsets with legends; hints are wired to their inputs.
    const f = fieldsByLabel(questions);
    expect(page.text).toMatch(new RegExp(`<fieldset class="forms-choices" id="f-${f['ご用件']}"[^>]*><legend>ご用件`));
    expect(page.text).toContain('autocomplete="name"');
    expect(page.text).toContain('autocomplete="postal-code"');
    expect(page.text).toMatch(/name="website"[^>]*tabindex="-1"/);

    const { confirm, fields, submit } = await submitForm(client, form.slug, validAnswers(questions));
    expect(confirm.text).toContain('入力内容の確認');
    expect(confirm.text).toContain('1980年5月5日（昭和55年5月5日）');
    expect(confirm.text).toContain('〒000-0001 みどり県あおば市中央1-2-3');
    expect(confirm.text).toContain('taro@example.jp に受付完了のメールをお送りします');
    expect(fields._sid).toMatch(/\./);
    expect(submit.status).toBe(303);
    expect(submit.location).toMatch(new RegExp(`^/forms/${form.slug}/done\\?r=`));
    const done = await client.get(submit.location!);
    expect(done.status).toBe(200);
    const receipt = /data-testid="receipt-number">([^<]+)</.exec(done.text)?.[1];
    expect(receipt).toMatch(/^\d{4}-\d{6}-[A-Z]$/);
    expect(done.text).toContain('3開庁日以内にご連絡します。');

    const stored = await p.db.selectFrom('form_responses').selectAll().where('form_id', '=', form.id).execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.receipt_number).toBe(receipt);
    const answers = await p.db.selectFrom('form_answers').select(['question_label', 'value']).where('response_id', '=', stored[0]!.id).orderBy('id').execute();
    expect(answers.map((a) => a.question_label)).toEqual(['お名前', 'ふりがな', 'メールアドレス', '電話番号', '住所', '生年月日', '参加人数', 'ご用件', '使う設備', '利用する施設', '個人情報の取扱い']);

    await p.jobs.drain();
    const reply = await tp().smtp!.waitFor((m) => m.to.includes('taro@example.jp'));
    expect(reply.subject).toBe(`【公民館の利用申込み】受付番号 ${receipt}`);
    expect(reply.text).toContain('山田 太郎 様');
    expect(reply.text).toContain(`受付番号: ${receipt}`);
    expect(reply.text).toContain('・使う設備\n  マイク');
    const note = await tp().smtp!.waitFor((m) => m.to.includes('staff@city.example.jp'));
    expect(note.subject).toContain(receipt!);
    expect(note.text).toContain(`/admin/forms/${form.id}/responses/${stored[0]!.id}`);
    // Answers are personal data: marked sensitive and wiped from the outbox once delivered.
    const mails = await p.db.selectFrom('mail_messages').select(['sensitive', 'status', 'text_body', 'category']).where('category', 'in', ['forms.reply', 'forms.notify']).execute();
    expect(mails).toHaveLength(2);
    for (const m of mails) expect(m).toMatchObject({ sensitive: 1, status: 'sent', text_body: SENSITIVE_WIPED });
  });

  it('a double click or a reload of the completion page never makes a second response', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `twice-${engine}`, settings: fast });
    const client = new HttpClient(tp().baseUrl);
    const confirm = await openAndConfirm(client, form.slug, validAnswers(questions));
    const fields = confirmFields(confirm.text);
    const [a, b] = await Promise.all([client.post(`/forms/${form.slug}/submit`, fields), client.post(`/forms/${form.slug}/submit`, fields)]);
    const c = await client.post(`/forms/${form.slug}/submit`, fields);
    for (const r of [a, b, c]) expect(r.status).toBe(303);
    const receipts = await Promise.all([a, b, c].map(async (r) => /data-testid="receipt-number">([^<]+)</.exec((await client.get(r.location!)).text)?.[1]));
    expect(new Set(receipts).size).toBe(1);
    await client.get(a.location!);
    expect(await count(p, 'form_responses', form.id)).toBe(1);
    expect((await formsOf(p).forms.get(form.id))!.responseCount).toBe(1);
  });

  it('errors are shown at each field and summarised at the top, in Japanese, with the input kept (422)', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `errors-${engine}`, settings: fast });
    const f = fieldsByLabel(questions);
    const client = new HttpClient(tp().baseUrl);
    const res = await openAndConfirm(client, form.slug, validAnswers(questions, { お名前: '', 電話番号: '12-34', 参加人数: '１００', ふりがな: 'ヤマダ' }));
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="error-summary"');
    expect(res.text).toContain(`<a href="#f-${f['お名前']}">お名前: お名前を入力してください。</a>`);
    expect(res.text).toContain('電話番号を正しく入力してください');
    expect(res.text).toContain('参加人数は20以下で入力してください。');
    expect(res.text).toContain('ふりがなはひらがなで入力してください。');
    expect(res.text).toMatch(new RegExp(`id="f-${f['電話番号']}" name="${f['電話番号']}" type="tel" value="12-34"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*f-${f['電話番号']}-error`));
    expect(res.text).toContain('value="taro@example.jp"');
    expect(await count(p, 'form_responses', form.id)).toBe(0);
  });

  it('a question shown on a condition is required only when shown; answers of hidden ones are dropped', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `cond-${engine}`, settings: fast });
    const f = fieldsByLabel(questions);
    const client = new HttpClient(tp().baseUrl);
    const page = await client.get(`/forms/${form.slug}`);
    expect(page.text).toContain('※ 「ご用件」が「その他」のときに回答してください。');
    expect(page.text).toContain(`data-show-if="{&quot;name&quot;:&quot;${f['ご用件']}&quot;,&quot;op&quot;:&quot;equals&quot;,&quot;value&quot;:&quot;その他&quot;`);
    const missing = await openAndConfirm(client, form.slug, validAnswers(questions, { ご用件: 'その他' }));
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('その他の内容を入力してください。');
    const hidden = await openAndConfirm(client, form.slug, validAnswers(questions, { その他の内容: '表示されない質問への回答' }));
    expect(hidden.status).toBe(200);
    expect(hidden.text).not.toContain('表示されない質問への回答');
    const shown = await openAndConfirm(client, form.slug, validAnswers(questions, { ご用件: 'その他', その他の内容: '見学をしたい' }));
    expect(shown.status).toBe(200);
    expect(confirmFields(shown.text)[f['その他の内容']!]).toBe('見学をしたい');
  });

  it('without JavaScript, the postal code fills the address at the confirmation step; with it, a lookup answers', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `postal-${engine}`, settings: fast });
    const f = fieldsByLabel(questions);
    const client = new HttpClient(tp().baseUrl);
    const res = await openAndConfirm(client, form.slug, validAnswers(questions, { 住所: '〒０００－０００４', '住所:address': '' }));
    expect(res.status).toBe(200);
    expect(res.text).toContain('郵便番号から「住所」の住所を入力しました。');
    expect(res.text).toContain(`name="${f['住所']}_address" type="text" autocomplete="street-address" maxlength="200" value="みどり県あおば市紅葉台"`);
    expect(res.text).not.toContain('data-testid="confirm-form"');
    const lookup = await client.get('/forms/_postal/1000001');
    expect(JSON.parse(lookup.text)).toEqual({ found: true, prefecture: '東京都', city: '千代田区', town: '千代田' });
    expect(JSON.parse((await client.get('/forms/_postal/9999999')).text)).toEqual({ found: false });
  });

  it('spam defences: the honeypot, the minimum fill time and forged tokens stop a post, and nothing is stored', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `spam-${engine}`, settings: { minFillSeconds: '2' } });
    const client = new HttpClient(tp().baseUrl);
    const tooFast = await openAndConfirm(client, form.slug, validAnswers(questions));
    expect(tooFast.status).toBe(422);
    expect(tooFast.text).toContain('入力を始めてから送信までの時間が短すぎます。');
    const forged = await client.post(`/forms/${form.slug}/confirm`, { ...validAnswers(questions), _ts: `${Date.now() - 60_000}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, website: '' });
    expect(forged.status).toBe(422);
    expect(forged.text).toContain('ページの有効期限が切れました。');
    const page = await client.get(`/forms/${form.slug}`);
    const ts = hiddenValue(page.text, '_ts');
    await new Promise((r) => setTimeout(r, 2100));
    const bot = await client.post(`/forms/${form.slug}/confirm`, { ...validAnswers(questions), _ts: ts, website: 'http://spam.example' });
    expect(bot.status).toBe(422);
    const human = await client.post(`/forms/${form.slug}/confirm`, { ...validAnswers(questions), _ts: ts, website: '' });
    expect(human.status).toBe(200);
    const fields = confirmFields(human.text);
    // Straight to "submit" with the honeypot filled, or with a key the server never issued.
    expect((await client.post(`/forms/${form.slug}/submit`, { ...fields, website: 'x' })).status).toBe(422);
    expect((await client.post(`/forms/${form.slug}/submit`, { ...fields, _sid: 'A'.repeat(24) + '.' + 'B'.repeat(32) })).status).toBe(422);
    // Without the CSRF token the platform refuses the post before the form sees it.
    expect((await client.post(`/forms/${form.slug}/submit`, fields, { csrf: null })).status).toBe(403);
    expect(await count(p, 'form_responses', form.id)).toBe(0);
    expect((await client.post(`/forms/${form.slug}/submit`, fields)).status).toBe(303);
    expect(await count(p, 'form_responses', form.id)).toBe(1);
  });

  it('a form closes on its date by the schedule job (fixed clock) and then refuses input with 410; an early one says so with 403; a removed one is gone', async () => {
    const p = tp().platform;
    const actor = systemActor(p);
    const { forms } = formsOf(p);
    const now = Date.now();
    const local = (ms: number) => new Date(now + ms + 9 * 3600_000).toISOString().slice(0, 16);
    const { form, questions } = await createSampleForm(p, actor, { slug: `window-${engine}`, settings: { ...fast, opensAt: local(3600_000), closesAt: local(2 * 3600_000), removesAt: local(3 * 3600_000) } });
    expect(form.state).toBe('scheduled');
    const client = new HttpClient(tp().baseUrl);
    const early = await client.get(`/forms/${form.slug}`);
    expect(early.status).toBe(200);
    expect(early.text).toContain('受付開始前です');
    expect((await client.post(`/forms/${form.slug}/confirm`, validAnswers(questions))).status).toBe(403);

    const at = (ms: number) => new Date(now + ms + 60_000);
    await p.jobs.scheduleDue(at(3600_000));
    await p.jobs.drain(at(3600_000));
    expect((await forms.get(form.id))!.state).toBe('open');
    const confirm = await openAndConfirm(client, form.slug, validAnswers(questions));
    expect(confirm.status).toBe(200);
    const fields = confirmFields(confirm.text);

    await p.jobs.scheduleDue(at(2 * 3600_000));
    await p.jobs.drain(at(2 * 3600_000));
    expect((await forms.get(form.id))!.state).toBe('closed');
    const closed = await client.get(`/forms/${form.slug}`);
    expect(closed.status).toBe(200);
    expect(closed.text).toContain('このフォームの受付は終了しました');
    expect(closed.text).not.toContain('確認画面へ進む');
    const late = await client.post(`/forms/${form.slug}/submit`, fields);
    expect(late.status).toBe(410);
    expect(late.text).toContain('このフォームの受付は終了しました');
    expect((await client.post(`/forms/${form.slug}/confirm`, validAnswers(questions))).status).toBe(410);
    expect(await count(p, 'form_responses', form.id)).toBe(0);
    const audit = await p.db.selectFrom('audit_log').select(['action', 'actor_id']).where('target_type', '=', 'form').where('target_id', '=', String(form.id)).where('action', 'like', 'forms.auto.%').orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['forms.auto.open', 'forms.auto.closed']);

    await p.jobs.scheduleDue(at(3 * 3600_000));
    await p.jobs.drain(at(3 * 3600_000));
    expect((await forms.get(form.id))!.state).toBe('removed');
    expect((await client.get(`/forms/${form.slug}`)).status).toBe(404);
  });

  it('the response limit: the last place closes the form for everyone after', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `limit-${engine}`, settings: { ...fast, responseLimit: '1' } });
    const first = new HttpClient(tp().baseUrl);
    const second = new HttpClient(tp().baseUrl);
    const c2 = await openAndConfirm(second, form.slug, validAnswers(questions));
    expect((await submitForm(first, form.slug, validAnswers(questions))).submit.status).toBe(303);
    const late = await second.post(`/forms/${form.slug}/submit`, confirmFields(c2.text));
    expect(late.status).toBe(410);
    expect((await formsOf(p).forms.get(form.id))!.state).toBe('closed');
    expect(await count(p, 'form_responses', form.id)).toBe(1);
  });

  it('a database error mid-response keeps nothing half-written, says so clearly and keeps the answers to send again', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `dberr-${engine}`, settings: { ...fast, replyEnabled: '1', notifyEmails: 'staff@city.example.jp' } });
    const client = new HttpClient(tp().baseUrl);
    const confirm = await openAndConfirm(client, form.slug, validAnswers(questions));
    const fields = confirmFields(confirm.text);
    const before = { responses: await count(p, 'form_responses'), answers: await count(p, 'form_answers'), mail: await count(p, 'mail_messages'), counter: await p.db.selectFrom('form_receipt_counters').selectAll().execute() };
    // The answers table refuses every insert, as a full disk or a lost connection would.
    if (engine === 'sqlite') await sql`CREATE TRIGGER forms_test_fail BEFORE INSERT ON form_answers BEGIN SELECT RAISE(ABORT, 'disk full'); END`.execute(p.db);
    else {
      await sql`CREATE FUNCTION forms_test_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql`.execute(p.db);
      await sql`CREATE TRIGGER forms_test_fail BEFORE INSERT ON form_answers FOR EACH ROW EXECUTE FUNCTION forms_test_fail()`.execute(p.db);
    }
    try {
      const failed = await client.post(`/forms/${form.slug}/submit`, fields);
      expect(failed.status).toBe(500);
      expect(failed.text).toContain('回答は保存されていません');
      expect(failed.text).not.toContain('disk full');
      expect(confirmFields(failed.text)).toEqual(fields);
      expect(await count(p, 'form_responses')).toBe(before.responses);
      expect(await count(p, 'form_answers')).toBe(before.answers);
      expect(await count(p, 'mail_messages')).toBe(before.mail);
      expect(await p.db.selectFrom('form_receipt_counters').selectAll().execute()).toEqual(before.counter);
      expect((await formsOf(p).forms.get(form.id))!.responseCount).toBe(0);
    } finally {
      if (engine === 'sqlite') await sql`DROP TRIGGER forms_test_fail`.execute(p.db);
      else {
        await sql`DROP TRIGGER forms_test_fail ON form_answers`.execute(p.db);
        await sql`DROP FUNCTION forms_test_fail()`.execute(p.db);
      }
    }
    const again = await client.post(`/forms/${form.slug}/submit`, fields);
    expect(again.status).toBe(303);
    expect(await count(p, 'form_responses', form.id)).toBe(1);
  });

  it('an uploaded file is kept only when its bytes are an accepted type and within the size limit', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `files-${engine}`, settings: fast });
    const f = fieldsByLabel(questions);
    const client = new HttpClient(tp().baseUrl);
    const page = await client.get(`/forms/${form.slug}`);
    expect(page.text).toContain('enctype="multipart/form-data"');
    const post = async (name: string, bytes: Uint8Array<ArrayBuffer>, type: string) => {
      const body = new FormData();
      body.set('_csrf', client.lastCsrf);
      body.set('_ts', hiddenValue(page.text, '_ts'));
      body.set('website', '');
      for (const [k, v] of Object.entries(validAnswers(questions))) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
      body.set(f['申請書の写し']!, new Blob([bytes], { type }), name);
      return client.request('POST', `/forms/${form.slug}/confirm`, { body });
    };
    const pdf = new TextEncoder().encode('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
    const exe = new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, ...new Array(200).fill(0)]);
    const refused = await post('申請書.pdf', exe, 'application/pdf');
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('申請書の写しには、受け付ける種類のファイル');
    const big = new Uint8Array(2 * 1024 * 1024 + 10);
    big.set(pdf);
    const tooBig = await post('big.pdf', big, 'application/pdf');
    expect(tooBig.status).toBe(422);
    expect(tooBig.text).toContain('ファイルが大きすぎます（2MBまで）');
    const ok = await post('../../申請書.pdf', pdf, 'application/octet-stream');
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('申請書.pdf（');
    const fields = confirmFields(ok.text);
    expect(fields[`${f['申請書の写し']}_file`]).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect((await client.post(`/forms/${form.slug}/submit`, fields)).status).toBe(303);
    const files = await p.db.selectFrom('form_files').select(['filename', 'mime', 'response_id', 'upload_token']).where('form_id', '=', form.id).execute();
    expect(files).toEqual([{ filename: '申請書.pdf', mime: 'application/pdf', response_id: expect.any(Number), upload_token: null }]);
  });
});
