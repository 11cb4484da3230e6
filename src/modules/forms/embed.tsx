import type { Platform } from '../../core/platform.js';
import { parseJson } from '../../core/db/index.js';
import { str } from '../../core/http/validate.js';
import { SelectField } from '../../core/ui/forms.js';
import { cmsOf } from '../cms/index.js';
import type { PublicPageContext } from '../cms/parts.js';
import { publicState, FORM_STATE_LABELS } from './service.js';
import { formsOf } from './services.js';
import { ClosedView, FormsHead, InputForm } from './views.js';

const formIdOf = (fields: Record<string, unknown>): number | null => {
  const n = Number(fields.formId);
  return Number.isInteger(n) && n > 0 ? n : null;
};

/**
 * A form inside a CMS page. Public pages are render-cached and shared by every visitor, so the
 * embedded HTML holds nothing of one visitor: the form is printed without its CSRF token and
 * start time and stays hidden; the module's script asks /forms/<slug>/start for this visitor's
 * values and then shows it. Without JavaScript the visitor gets a link to the form's own page,
 * which works fully without it. Confirmation and completion always happen at the form's own
 * address (never cached).
 */
async function embeddedForm(ctx: PublicPageContext, p: Platform) {
  const id = formIdOf(ctx.fields);
  if (!id) return null;
  const { forms } = formsOf(p);
  const form = await forms.get(id);
  if (!form) return null;
  const state = publicState(form);
  if (state === 'hidden') {
    return ctx.preview ? <p class="notice notice--warning">（プレビュー）埋め込んだフォーム「{form.title}」は{FORM_STATE_LABELS[form.state]}のため、公開ページには表示されません。</p> : null;
  }
  const questions = await forms.questions(form.id);
  const own = `/forms/${form.slug}?site=${ctx.site.id}`;
  return (
    <section class="forms-embed" aria-labelledby={`forms-embed-${form.id}`} data-forms-embed={`/forms/${form.slug}/start`}>
      <h2 id={`forms-embed-${form.id}`}>{form.title}</h2>
      {form.description ? <p class="forms-description">{form.description}</p> : null}
      <p data-forms-status="" role="status"></p>
      {state === 'open' ? (
        <>
          <p data-forms-fallback="">
            <a href={own}>「{form.title}」の入力ページを開く</a>
          </p>
          <InputForm v={ctx.v} form={form} questions={questions} values={{}} csrf="" startToken="" siteId={ctx.site.id} prefix="embed" headingLevel={3} hidden />
        </>
      ) : (
        <ClosedView form={form} state={state} v={ctx.v} />
      )}
    </section>
  );
}

/**
 * Plugs forms into the CMS through its extension points: a 「埋め込むフォーム」 choice in the page
 * editor (stored in the version's fields as `formId`), the form after the page body with the
 * module's assets in the head, a publish hook that records which live pages embed which form,
 * and cache clearing on those pages' sites whenever a form changes (opens, closes, is edited).
 */
export function installCmsEmbedding(p: Platform): void {
  const cms = cmsOf(p);
  const { forms } = formsOf(p);

  cms.parts.addEditor(
    {
      fields: async (ctx) => {
        const list = await forms.embeddable(ctx.actor);
        return (
          <SelectField
            v={ctx.v}
            name="formId"
            label="埋め込むフォーム"
            value={str(ctx.values.formId)}
            emptyLabel="埋め込まない"
            options={list.map((f) => ({ value: f.id, label: `${f.title}（${FORM_STATE_LABELS[f.state]}）` }))}
            errors={ctx.errors}
            hint="選んだフォームを本文の後に表示します。フォームは「フォーム」画面で作成・公開します。"
          />
        );
      },
      read: async (values) => {
        const raw = str(values.formId).trim();
        if (!raw) return { fields: {} };
        const form = await forms.get(Number(raw));
        if (!form || form.state === 'removed') return { errors: { formId: '選んだフォームが見つかりません。一覧から選び直してください。' } };
        return { fields: { formId: form.id } };
      },
      values: (fields) => ({ formId: formIdOf(fields) ? String(formIdOf(fields)) : '' }),
    },
    300,
  );

  cms.parts.addHead((ctx) => (formIdOf(ctx.fields) ? <FormsHead /> : null), 300);
  cms.parts.addAfterBody((ctx) => embeddedForm(ctx, p), 50);

  cms.parts.onPublishTx(async (tx, event) => {
    const nodeId = event.node.id;
    if (event.kind === 'publish') {
      await tx.deleteFrom('form_embeds').where('node_id', '=', nodeId).execute();
      const formId = formIdOf(parseJson<Record<string, unknown>>(event.version?.fields ?? '{}', {}));
      const exists = formId ? await tx.selectFrom('forms').select('id').where('id', '=', formId).executeTakeFirst() : undefined;
      if (exists) await tx.insertInto('form_embeds').values({ node_id: nodeId, site_id: event.node.site_id, form_id: exists.id, path: event.node.path }).execute();
    } else if (event.kind === 'unpublish' || event.kind === 'trash') {
      await tx.deleteFrom('form_embeds').where('node_id', '=', nodeId).execute();
    }
  });

  forms.onChange(async ({ formId }) => {
    const seen = new Set<number>();
    for (const e of await forms.embeds(formId)) {
      if (seen.has(e.siteId)) continue;
      seen.add(e.siteId);
      await cms.pages.notifyChanged({ siteId: e.siteId, nodeId: e.nodeId, path: e.path, kind: 'settings' });
    }
  });
}
