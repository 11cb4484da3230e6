import type { Platform } from '../../core/platform.js';
import { consoleActor } from '../../core/permissions/index.js';
import { cmsOf } from '../cms/index.js';
import { formsOf } from './services.js';

const meta = { ip: 'console', userAgent: 'demo content' };

/**
 * Demo content: the postal codes of the demo prefecture, and a published 「公民館の利用申込み」
 * form embedded in a page of the demo city site. Idempotent.
 */
export async function seedDemoForms(p: Platform): Promise<void> {
  const actor = consoleActor(p.permissions);
  const { forms, postal } = formsOf(p);
  await postal.seedDemo({ actor, ...meta });
  if (await forms.bySlug('kominkan')) return;
  const city = await p.db.selectFrom('organizations').select('id').where('code', '=', '992011').executeTakeFirst();
  const id = await forms.create(actor, { title: '公民館の利用申込み', slug: 'kominkan', organizationId: city ? String(city.id) : '', description: '市内の公民館の会議室・和室の利用を申し込めます。受付後、3開庁日以内に担当からご連絡します。' }, { actor, ...meta });
  let form = (await forms.get(id))!;
  const add = (input: Parameters<typeof forms.addQuestion>[2]) => forms.addQuestion(actor, form, input, { actor, ...meta });
  await add({ type: 'heading', label: '申込者の情報' });
  await add({ type: 'text', label: 'お名前', required: true, autocomplete: 'name' });
  await add({ type: 'text', label: 'ふりがな', pattern: 'hiragana' });
  await add({ type: 'email', label: 'メールアドレス', required: true });
  await add({ type: 'tel', label: '電話番号', required: true });
  await add({ type: 'postal', label: '住所', required: true });
  await add({ type: 'heading', label: '利用の内容' });
  await add({ type: 'select', label: '公民館', required: true, options: 'あおば中央公民館\n北地区公民館\n港町公民館' });
  await add({ type: 'date', label: '利用日', required: true });
  const purpose = await add({ type: 'radio', label: '利用の目的', required: true, options: 'サークル活動\n会議\nその他' });
  await add({ type: 'textarea', label: 'その他の目的', showIfQuestion: String(purpose), showIfOp: 'equals', showIfValue: 'その他' });
  await add({ type: 'number', label: '利用人数', required: true, min: '1', max: '100', integer: true });
  await add({ type: 'checkbox', label: '使う設備', options: 'プロジェクター\nマイク\nホワイトボード' });
  await add({ type: 'consent', label: '個人情報の取扱い', help: 'ご記入の個人情報は、公民館の利用に関する連絡にだけ使います。', required: true });
  form = (await forms.get(id))!;
  await forms.updateSettings(actor, form, { title: form.title, slug: form.slug, replyEnabled: '1', completionMessage: '3開庁日以内に担当からご連絡します。' }, { actor, ...meta });
  await forms.publish(actor, (await forms.get(id))!, { actor, ...meta });

  const cms = cmsOf(p);
  const site = (await cms.sites.all())[0];
  if (!site) return;
  const parent = await cms.pages.findPublic(site.id, '/kurashi/');
  if (!parent) return;
  const nodeId = await cms.pages.create(
    actor,
    { siteId: site.id, parentId: parent.node.id, kind: 'page', slug: 'kominkan', title: '公民館の利用申込み', summary: '公民館の会議室・和室をインターネットで申し込めます。', body: '<p>公民館の利用は、このページのフォームから申し込めます。</p>', fields: { formId: id } },
    meta,
  );
  await cms.pages.publish(actor, nodeId, meta);
}
