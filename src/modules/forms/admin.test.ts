import { expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../test/helpers/platform.js';
import { parseCsv } from '../../core/csv/index.js';
import type { Platform } from '../../core/platform.js';
import { createSampleForm, insertResponses } from './fixtures.js';
import { formsOf } from './services.js';
import { cookieOf, submitForm, validAnswers } from './testing.js';

const signIn = async (baseUrl: string, p: Platform, input: Parameters<typeof createStaff>[1]) => {
  const staff = await createStaff(p, input);
  const client = new HttpClient(baseUrl);
  expect((await client.login(staff.loginId, staff.password)).status).toBe(303);
  return { client, staff };
};

const auditActions = async (p: Platform, since: number) => (await p.db.selectFrom('audit_log').select(['action', 'summary']).where('id', '>', since).orderBy('id').execute());
const lastAuditId = async (p: Platform) => Number((await p.db.selectFrom('audit_log').select((eb) => eb.fn.max('id').as('m')).executeTakeFirstOrThrow()).m ?? 0);

describePlatform('forms: the builder and the responses for staff', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000', RATE_LIMIT_PUBLIC_POST_PER_MINUTE: '10000' } }, (tp, engine) => {
  let cityId = 0;
  let otherCityId = 0;

  it('a forms staff member builds a form: creates it, adds questions, reorders with up/down, and publishes; every step is audited', async () => {
    const p = tp().platform;
    cityId = await createOrganization(p, { name: `フォーム市${engine}` });
    otherCityId = await createOrganization(p, { name: `となり町${engine}` });
    const { client } = await signIn(tp().baseUrl, p, { roles: ['forms_staff'], organizationId: cityId });
    const menu = await client.get('/admin');
    expect(menu.text).toContain('href="/admin/forms"');
    const since = await lastAuditId(p);

    await client.get('/admin/forms/new');
    const bad = await client.post('/admin/forms', { title: '', slug: 'Bad Slug', kind: 'form', organizationId: String(cityId) });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('フォームの名前を入力してください。');
    expect(bad.text).toContain('URLの名前は半角英小文字');
    const other = await client.post('/admin/forms', { title: '他の組織', slug: `other-${engine}`, kind: 'form', organizationId: String(otherCityId) });
    expect(other.status).toBe(422);
    expect(other.text).toContain('担当の組織を、あなたが管理できる組織から選んでください。');
    const created = await client.post('/admin/forms', { title: '講座の申込み', slug: `koza-${engine}`, kind: 'form', organizationId: String(cityId), description: '市民講座の申込みです。' });
    expect(created.status).toBe(303);
    const id = Number(/\/admin\/forms\/(\d+)/.exec(created.location!)![1]);
    const dup = await client.post('/admin/forms', { title: '重複', slug: `koza-${engine}`, kind: 'form', organizationId: String(cityId) });
    expect(dup.status).toBe(422);
    expect(dup.text).toContain('このURLの名前は既に使われています。');

    const noQuestions = await client.post(`/admin/forms/${id}/publish`, {});
    expect(noQuestions.status).toBe(422);
    expect(noQuestions.text).toContain('回答を受け付ける質問を1つ以上追加してから公開してください。');

    for (const type of ['text', 'textarea', 'radio', 'checkbox', 'select', 'number', 'email', 'tel', 'date', 'postal', 'file', 'consent', 'heading']) {
      const form = await client.get(`/admin/forms/${id}/questions/new?type=${type}`);
      expect(form.status, type).toBe(200);
    }
    const add = (values: Record<string, string | string[]>) => client.post(`/admin/forms/${id}/questions`, values);
    expect((await add({ type: 'text', label: 'お名前', required: '1', autocomplete: 'name' })).status).toBe(303);
    const noOptions = await add({ type: 'radio', label: '希望の講座', options: '' });
    expect(noOptions.status).toBe(422);
    expect(noOptions.text).toContain('選択肢を1行に1つずつ入力してください。');
    expect((await add({ type: 'radio', label: '希望の講座', required: '1', options: '料理\n書道\nその他' })).status).toBe(303);
    const unsafe = await add({ type: 'text', label: '会員番号', pattern: 'custom', customPattern: '([0-9]+)+-' });
    expect(unsafe.status).toBe(422);
    expect(unsafe.text).toContain('処理が止まらなくなるおそれがある');
    expect((await add({ type: 'text', label: '会員番号', pattern: 'custom', customPattern: '[A-Z]-[0-9]{4}', customMessage: '「A-1234」の形で入力してください。' })).status).toBe(303);
    const questions = await formsOf(p).forms.questions(id);
    const course = questions.find((q) => q.label === '希望の講座')!;
    const badCond = await add({ type: 'textarea', label: 'その他の希望', showIfQuestion: String(course.id), showIfOp: 'equals', showIfValue: '水泳' });
    expect(badCond.status).toBe(422);
    expect(badCond.text).toContain('「希望の講座」の選択肢のどれかを、そのまま入力してください。');
    expect((await add({ type: 'textarea', label: 'その他の希望', showIfQuestion: String(course.id), showIfOp: 'equals', showIfValue: 'その他' })).status).toBe(303);

    // Reordering without JavaScript: the button posts, the page comes back with focus on the moved button.
    const [name, , member, otherWish] = await formsOf(p).forms.questions(id);
    const moved = await client.post(`/admin/forms/${id}/questions/${member!.id}/move`, { direction: 'up' });
    expect(moved.status).toBe(303);
    expect(moved.location).toBe(`/admin/forms/${id}?moved=${member!.id}&dir=up`);
    expect((await formsOf(p).forms.questions(id)).map((q) => q.label)).toEqual(['お名前', '会員番号', '希望の講座', 'その他の希望']);
    const builder = await client.get(moved.location!);
    expect(builder.text).toMatch(new RegExp(`name="direction" value="up"[^>]*autofocus[^>]*>上へ<span class="visually-hidden">: 会員番号`));
    const refused = await client.post(`/admin/forms/${id}/questions/${otherWish!.id}/move`, { direction: 'up' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('「その他の希望」は「希望の講座」の回答で表示が決まるため');
    expect((await client.post(`/admin/forms/${id}/questions/${name!.id}/move`, { direction: 'down' })).status).toBe(303);
    expect((await formsOf(p).forms.questions(id)).map((q) => q.label)).toEqual(['会員番号', 'お名前', '希望の講座', 'その他の希望']);

    const settings = await client.post(`/admin/forms/${id}/settings`, { title: '講座の申込み', slug: `koza-${engine}`, kind: 'form', organizationId: String(cityId), replyEnabled: '1', replySubject: '{{氏名}}', replyBody: '{{回答:ご住所}}', notifyEmails: 'staff@example.jp\r\nBcc: evil@example.com' });
    expect(settings.status).toBe(422);
    expect(settings.text).toContain('「{{氏名}}」は使えません。');
    expect(settings.text).toContain('「{{回答:ご住所}}」の質問が見つかりません。');
    expect(settings.text).toContain('自動返信メールを送るには、メールアドレスの質問を追加してください。');
    expect(settings.text).toContain('通知先のメールアドレスの形式が正しくありません');
    expect((await client.post(`/admin/forms/${id}/settings`, { title: '講座の申込み', slug: `koza-${engine}`, kind: 'form', organizationId: String(cityId), description: '市民講座の申込みです。', minFillSeconds: '0', closesAt: '2099-03-31T17:00', notifyEmails: 'staff@example.jp' })).status).toBe(303);

    const published = await client.post(`/admin/forms/${id}/publish`, {});
    expect(published.status).toBe(303);
    expect((await formsOf(p).forms.get(id))!.state).toBe('open');
    const live = await new HttpClient(tp().baseUrl).get(`/forms/koza-${engine}`);
    expect(live.status).toBe(200);
    expect(live.text).toContain('市民講座の申込みです。');
    expect((await auditActions(p, since)).map((a) => a.action)).toEqual(['forms.create', 'forms.question.add', 'forms.question.add', 'forms.question.add', 'forms.question.add', 'forms.question.move', 'forms.question.move', 'forms.update', 'forms.publish']);
  });

  it('deleting a question that has answers retires it: old responses and exports keep it', async () => {
    const p = tp().platform;
    const { client } = await signIn(tp().baseUrl, p, { roles: ['forms_staff'], organizationId: cityId });
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `retire-${engine}`, organizationId: cityId, settings: { minFillSeconds: '0' } });
    expect((await submitForm(new HttpClient(tp().baseUrl), form.slug, validAnswers(questions))).submit.status).toBe(303);
    const kana = questions.find((q) => q.label === 'ふりがな')!;
    const confirmPage = await client.get(`/admin/forms/${form.id}/questions/${kana.id}/delete`);
    expect(confirmPage.text).toContain('過去の回答と出力には残ります');
    expect((await client.post(`/admin/forms/${form.id}/questions/${kana.id}/delete`, {})).status).toBe(303);
    expect((await formsOf(p).forms.questions(form.id)).some((q) => q.id === kana.id)).toBe(false);
    const csv = await client.get(`/admin/forms/${form.id}/responses/export.csv`);
    const [header, row] = parseCsv(csv.text);
    expect(header).toContain('ふりがな（削除済みの質問）');
    expect(row![header!.indexOf('ふりがな（削除済みの質問）')]).toBe('やまだ たろう');
  });

  it('staff see and touch only forms of their own organisation; responses need their own permission', async () => {
    const p = tp().platform;
    const mine = await createSampleForm(p, systemActor(p), { slug: `mine-${engine}`, organizationId: cityId, settings: { minFillSeconds: '0' } });
    const theirs = await createSampleForm(p, systemActor(p), { slug: `theirs-${engine}`, organizationId: otherCityId, settings: { minFillSeconds: '0' } });
    await submitForm(new HttpClient(tp().baseUrl), theirs.form.slug, validAnswers(theirs.questions));
    const rid = (await p.db.selectFrom('form_responses').select('id').where('form_id', '=', theirs.form.id).executeTakeFirstOrThrow()).id;
    const { client } = await signIn(tp().baseUrl, p, { roles: ['forms_staff'], organizationId: cityId });
    const list = await client.get('/admin/forms');
    expect(list.text).toContain(`/admin/forms/${mine.form.id}"`);
    expect(list.text).not.toContain(`/admin/forms/${theirs.form.id}"`);
    for (const path of [`/admin/forms/${theirs.form.id}`, `/admin/forms/${theirs.form.id}/settings`, `/admin/forms/${theirs.form.id}/responses`, `/admin/forms/${theirs.form.id}/responses/${rid}`, `/admin/forms/${theirs.form.id}/responses/export.csv`, `/admin/forms/${theirs.form.id}/responses/export.xlsx`, `/admin/forms/${theirs.form.id}/questions/${theirs.questions[1]!.id}`]) {
      expect((await client.get(path)).status, path).toBe(404);
    }
    await client.get(`/admin/forms/${mine.form.id}`);
    for (const path of [`/admin/forms/${theirs.form.id}/close`, `/admin/forms/${theirs.form.id}/settings`, `/admin/forms/${theirs.form.id}/questions/${theirs.questions[1]!.id}/delete`, `/admin/forms/${theirs.form.id}/responses/${rid}/delete`]) {
      expect((await client.post(path, { confirm: '1', title: 'x', slug: 'x' })).status, path).toBe(404);
    }
    expect((await formsOf(p).forms.get(theirs.form.id))!.state).toBe('open');
    expect(await p.db.selectFrom('form_responses').select('id').where('id', '=', rid).executeTakeFirst()).toBeDefined();
    // An editor builds forms but does not read responses (personal data).
    const { client: editor } = await signIn(tp().baseUrl, p, { roles: ['editor'], organizationId: cityId });
    expect((await editor.get(`/admin/forms/${mine.form.id}`)).status).toBe(200);
    expect((await editor.get(`/admin/forms/${mine.form.id}/responses`)).status).toBe(403);
    expect((await editor.get(`/admin/forms/${mine.form.id}/responses/export.csv`)).status).toBe(403);
    // Someone without any forms permission is kept out altogether.
    const { client: staff } = await signIn(tp().baseUrl, p, { roles: ['municipality_staff'], organizationId: cityId });
    expect((await staff.get('/admin/forms')).status).toBe(403);
  });

  it('responses: list with filters, detail, status and memo, deletion — each view and change of personal data audited', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `resp-${engine}`, organizationId: cityId, settings: { minFillSeconds: '0' } });
    const resident = new HttpClient(tp().baseUrl);
    await submitForm(resident, form.slug, validAnswers(questions, { お名前: '佐藤 花子' }));
    await submitForm(resident, form.slug, validAnswers(questions, { お名前: '鈴木 一郎', ご用件: 'その他', その他の内容: '見学したい' }));
    const { client } = await signIn(tp().baseUrl, p, { roles: ['forms_staff'], organizationId: cityId });
    const since = await lastAuditId(p);
    const list = await client.get(`/admin/forms/${form.id}/responses`);
    expect(list.status).toBe(200);
    expect(list.text).toContain('回答（2件）');
    expect(list.text).toContain('佐藤 花子');
    const found = await client.get(`/admin/forms/${form.id}/responses?q=${encodeURIComponent('見学')}`);
    expect(found.text).toContain('回答（1件）');
    expect(found.text).toContain('鈴木 一郎');
    expect(found.text).not.toContain('佐藤 花子');
    const rows = await p.db.selectFrom('form_responses').select(['id', 'receipt_number']).where('form_id', '=', form.id).orderBy('id').execute();
    const byNumber = await client.get(`/admin/forms/${form.id}/responses?q=${rows[0]!.receipt_number.toLowerCase()}`);
    expect(byNumber.text).toContain('回答（1件）');
    const today = new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);
    expect((await client.get(`/admin/forms/${form.id}/responses?from=${today}&to=${today}`)).text).toContain('回答（2件）');
    expect((await client.get(`/admin/forms/${form.id}/responses?to=2000-01-01`)).text).toContain('回答（0件）');

    const detail = await client.get(`/admin/forms/${form.id}/responses/${rows[1]!.id}`);
    expect(detail.text).toContain('見学したい');
    expect(detail.text).toContain('<dt>生年月日</dt><dd>1980年5月5日（昭和55年5月5日）</dd>');
    expect((await client.post(`/admin/forms/${form.id}/responses/${rows[1]!.id}/status`, { status: 'bogus' })).status).toBe(422);
    expect((await client.post(`/admin/forms/${form.id}/responses/${rows[1]!.id}/status`, { status: 'in_progress' })).status).toBe(303);
    expect((await client.post(`/admin/forms/${form.id}/responses/${rows[1]!.id}/memo`, { memo: '4/3に電話で連絡済み' })).status).toBe(303);
    expect((await client.get(`/admin/forms/${form.id}/responses?status=in_progress`)).text).toContain('回答（1件）');
    const noConfirm = await client.post(`/admin/forms/${form.id}/responses/${rows[0]!.id}/delete`, {});
    expect(noConfirm.status).toBe(422);
    expect(noConfirm.text).toContain('削除するには、確認のチェックを入れてください。');
    expect((await client.post(`/admin/forms/${form.id}/responses/${rows[0]!.id}/delete`, { confirm: '1' })).status).toBe(303);
    expect(await p.db.selectFrom('form_answers').select('id').where('response_id', '=', rows[0]!.id).execute()).toEqual([]);
    expect((await client.get(`/admin/forms/${form.id}/responses/${rows[0]!.id}`)).status).toBe(404);
    const audit = await auditActions(p, since);
    expect(audit.map((a) => a.action)).toEqual(['forms.responses.list', 'forms.responses.list', 'forms.responses.list', 'forms.responses.list', 'forms.responses.list', 'forms.response.view', 'forms.response.status', 'forms.response.memo', 'forms.responses.list', 'forms.response.delete']);
    // The audit trail records that a memo changed, never what it says.
    expect(JSON.stringify(audit)).not.toContain('電話で連絡済み');
    expect(audit.find((a) => a.action === 'forms.response.delete')!.summary).toContain(rows[0]!.receipt_number);
  });

  it('exports CSV (UTF-8 with BOM and Shift_JIS) and XLSX that read back as written: choices joined, formulas neutralised, each export audited', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `export-${engine}`, title: '出力テスト', organizationId: cityId, settings: { minFillSeconds: '0' } });
    const resident = new HttpClient(tp().baseUrl);
    await submitForm(resident, form.slug, validAnswers(questions, { お名前: '=HYPERLINK("http://evil.example","押して")', 使う設備: ['プロジェクター', 'ホワイトボード'], その他の内容: null }));
    await submitForm(resident, form.slug, validAnswers(questions, { お名前: '髙橋 〜 −', 参加人数: '１２' }));
    const { client } = await signIn(tp().baseUrl, p, { roles: ['forms_staff'], organizationId: cityId });
    const since = await lastAuditId(p);

    const utf8 = await fetch(`${tp().baseUrl}/admin/forms/${form.id}/responses/export.csv`, { headers: { cookie: cookieOf(client) } });
    expect(utf8.status).toBe(200);
    expect(utf8.headers.get('content-type')).toBe('text/csv; charset=UTF-8');
    expect(utf8.headers.get('content-disposition')).toContain("filename*=UTF-8''%E5%87%BA%E5%8A%9B");
    const bytes = Buffer.from(await utf8.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, first, second] = parseCsv(bytes);
    expect(header!.slice(0, 5)).toEqual(['受付番号', '受付日時', '状態', 'お名前', 'ふりがな']);
    expect(header).toContain('対応メモ');
    const col = (name: string) => header!.indexOf(name);
    expect(first![col('お名前')]).toBe(`'=HYPERLINK("http://evil.example","押して")`);
    expect(first![col('使う設備')]).toBe('プロジェクター、ホワイトボード');
    expect(first![col('状態')]).toBe('未対応');
    expect(first![col('受付日時')]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(second![col('参加人数')]).toBe('12');
    expect(second![col('生年月日')]).toBe('1980-05-05');

    const sjis = await fetch(`${tp().baseUrl}/admin/forms/${form.id}/responses/export.csv?encoding=sjis`, { headers: { cookie: cookieOf(client) } });
    expect(sjis.headers.get('content-type')).toBe('text/csv; charset=Shift_JIS');
    const sjisBytes = Buffer.from(await sjis.arrayBuffer());
    const decoded = parseCsv(iconv.decode(sjisBytes, 'cp932'));
    expect(decoded[0]).toEqual(header);
    expect(decoded[2]![col('お名前')]).toBe('髙橋 ～ －');
    expect(sjisBytes.includes(Buffer.from('?'))).toBe(false);

    const xlsx = await fetch(`${tp().baseUrl}/admin/forms/${form.id}/responses/export.xlsx`, { headers: { cookie: cookieOf(client) } });
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await xlsx.arrayBuffer()) as unknown as ArrayBuffer);
    const sheet = wb.worksheets[0]!;
    expect(sheet.name).toBe('回答');
    expect(sheet.rowCount).toBe(3);
    const xHeader = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(xHeader).toEqual(header);
    const nameCell = sheet.getRow(2).getCell(col('お名前') + 1);
    expect(nameCell.type).toBe(ExcelJS.ValueType.String);
    expect(nameCell.value).toBe('=HYPERLINK("http://evil.example","押して")');
    expect(sheet.getRow(3).getCell(col('参加人数') + 1).value).toBe(12);
    expect(sheet.getRow(2).getCell(col('使う設備') + 1).value).toBe('プロジェクター、ホワイトボード');
    expect(sheet.getRow(2).getCell(2).value).toBeInstanceOf(Date);

    const audit = await auditActions(p, since);
    expect(audit.map((a) => a.action)).toEqual(['forms.responses.export', 'forms.responses.export', 'forms.responses.export']);
    expect(audit[1]!.summary).toContain('CSV（Shift_JIS）で出力しました（条件なし、2件）');
    expect(audit[2]!.summary).toContain('Excel（XLSX）');
  });

  it('exports stream in batches: 1,203 responses come out complete and in order', async () => {
    const p = tp().platform;
    const { form, questions } = await createSampleForm(p, systemActor(p), { slug: `many-${engine}`, organizationId: cityId });
    await insertResponses(p, form, questions, 1203);
    const { client } = await signIn(tp().baseUrl, p, { roles: ['forms_staff'], organizationId: cityId });
    const csv = await client.get(`/admin/forms/${form.id}/responses/export.csv`);
    const rows = parseCsv(csv.text);
    expect(rows).toHaveLength(1204);
    const numbers = rows.slice(1).map((r) => r[0]);
    expect(new Set(numbers).size).toBe(1203);
    const xlsx = await fetch(`${tp().baseUrl}/admin/forms/${form.id}/responses/export.xlsx`, { headers: { cookie: cookieOf(client) } });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await xlsx.arrayBuffer()) as unknown as ArrayBuffer);
    expect(wb.worksheets[0]!.rowCount).toBe(1204);
    const paged = await client.get(`/admin/forms/${form.id}/responses?page=25`);
    expect(paged.text).toContain('25 / 25 ページ（全1203件）');
  });
});
