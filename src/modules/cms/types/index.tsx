import { readFileSync } from 'node:fs';
import type { Child } from 'hono/jsx';
import { fileURLToPath } from 'node:url';
import { parseJson } from '../../../core/db/index.js';
import { list, str, type FormValues } from '../../../core/http/validate.js';
import { registerMessages } from '../../../core/i18n/index.js';
import type { Platform } from '../../../core/platform.js';
import { registerAsset } from '../../../core/ui/assets.js';
import type { FieldErrors } from '../../../core/ui/forms.js';
import { addSiteHead } from '../frame.js';
import type { CmsServices } from '../index.js';
import type { CmsFeature, EditorContext, PublicPageContext } from '../parts.js';
import { setSearchFilterSource } from '../search/page.js';
import { categoriesOf } from './categories.js';
import { contactsOf } from './contacts.js';
import { seedTypesDemo } from './demo.js';
import { ArticleEditor, EventEditor, NewsEditor, SpotEditor, TaxonomyEditor, VideoEditor } from './editor.js';
import { articleFields, commonFieldsSchema, eventFields, newsFields, PAGE_TYPES, pageCategories, pageDepartment, pageTags, spotFields, videoFields } from './fields.js';
import { articleValues, eventValues, newsValues, readArticle, readEvent, readNews, readSpot, readTags, readVideo, spotValues, videoValues } from './form.js';
import { typesMigrations } from './migrations.js';
import {
  ArticleHeader,
  articleJsonLd,
  ContactBlock,
  EventInfo,
  eventJsonLd,
  icsHref,
  JsonLd,
  NewsMeta,
  PageTaxonomy,
  PhotoCredit,
  SpotInfo,
  VideoPlayer,
  VideoTranscript,
} from './public.js';
import { mountTypesRoutes } from './routes.js';

registerMessages({
  ja: { 'nav.cmsCategories': '分野の管理', 'nav.cmsContacts': '問い合わせ先の管理' },
  en: { 'nav.cmsCategories': 'Categories', 'nav.cmsContacts': 'Department contacts' },
});

const cssPath = registerAsset('cms-types.css', readFileSync(fileURLToPath(new URL('./types.css', import.meta.url)), 'utf8'), 'text/css; charset=utf-8');

/** The stylesheet of the page types' public pieces, on every page of every site. */
const typesStylesheet = () => <link rel="stylesheet" href={cssPath} />;

/** An editor part for one page type: inputs shown, read and filled only when the page is of that type. */
function typePart<T>(
  types: string[],
  render: (ctx: EditorContext) => Child,
  read: (values: FormValues) => { ok: true; data: T } | { ok: false; errors: FieldErrors },
  key: string,
  values: (fields: Record<string, unknown>) => FormValues,
) {
  return {
    fields: (ctx: EditorContext) => (types.includes(ctx.pageType) ? render(ctx) : null),
    read: (v: FormValues, ctx: { pageType: string }) => {
      if (!types.includes(ctx.pageType)) return {};
      const r = read(v);
      return r.ok ? { fields: { [key]: r.data } } : { errors: r.errors };
    },
    values,
  };
}

function install(cms: CmsServices, p: Platform): void {
  const categories = categoriesOf(p);
  const contacts = contactsOf(p);
  const parts = cms.parts;
  addSiteHead(typesStylesheet);

  parts.addPageType({ key: PAGE_TYPES.news, label: 'お知らせ', labelEn: 'News' });
  parts.addPageType({ key: PAGE_TYPES.event, label: 'イベント', labelEn: 'Event' });
  parts.addPageType({ key: PAGE_TYPES.spot, label: 'スポット（施設）', labelEn: 'Spot (facility)' });
  parts.addPageType({ key: PAGE_TYPES.article, label: '記事', labelEn: 'Article' });
  parts.addPageType({ key: PAGE_TYPES.interview, label: 'インタビュー', labelEn: 'Interview' });
  parts.addPageType({ key: PAGE_TYPES.video, label: '動画', labelEn: 'Video' });

  // ---- editor: each type's inputs, then categories / tags / 担当課 for every page
  parts.addEditor(typePart([PAGE_TYPES.news], (ctx) => <NewsEditor v={ctx.v} values={ctx.values} errors={ctx.errors} />, readNews, 'news', (f) => newsValues(newsFields(f))), 20);
  parts.addEditor(typePart([PAGE_TYPES.event], (ctx) => <EventEditor v={ctx.v} values={ctx.values} errors={ctx.errors} />, readEvent, 'event', (f) => eventValues(eventFields(f))), 20);
  parts.addEditor(typePart([PAGE_TYPES.spot], (ctx) => <SpotEditor v={ctx.v} values={ctx.values} errors={ctx.errors} />, readSpot, 'spot', (f) => spotValues(spotFields(f))), 20);
  parts.addEditor(
    typePart([PAGE_TYPES.article, PAGE_TYPES.interview], (ctx) => <ArticleEditor v={ctx.v} values={ctx.values} errors={ctx.errors} interview={ctx.pageType === PAGE_TYPES.interview} />, readArticle, 'article', (f) => articleValues(articleFields(f))),
    20,
  );
  parts.addEditor(typePart([PAGE_TYPES.video], (ctx) => <VideoEditor v={ctx.v} values={ctx.values} errors={ctx.errors} />, readVideo, 'video', (f) => videoValues(videoFields(f))), 20);
  parts.addEditor(
    {
      async fields(ctx) {
        const cats = await categories.list(ctx.site.id);
        const departments = (await p.organizations.visibleTo(ctx.actor)).filter((o) => o.kind === 'department' || o.kind === 'municipality' || o.kind === 'prefecture');
        const ownOrg = ctx.node?.organization_id ?? ctx.parent?.organization_id ?? null;
        const own = ownOrg === null ? null : ((await p.organizations.get(ownOrg))?.name ?? null);
        return (
          <>
            <link rel="stylesheet" href={cssPath} />
            <TaxonomyEditor v={ctx.v} values={ctx.values} errors={ctx.errors} categories={cats} departments={departments.map((d) => ({ id: d.id, name: d.name }))} nodeDepartment={own} />
          </>
        );
      },
      async read(values, ctx) {
        const errors: FieldErrors = {};
        const known = new Set((await categories.list(ctx.siteId)).map((c) => c.id));
        const chosen = [...new Set(list(values.categories).map(Number))];
        if (chosen.some((id) => !known.has(id))) errors.categories = 'このサイトにない分野が選ばれています。選び直してください。';
        const dept = str(values.department).trim();
        const department = dept ? Number(dept) : null;
        if (department !== null && !(Number.isSafeInteger(department) && (await p.organizations.get(department)) && (await p.organizations.canAccess(ctx.actor, department)))) errors.department = '担当課を一覧から選んでください。';
        const parsed = commonFieldsSchema.safeParse({ categories: chosen.filter((id) => known.has(id)), tags: readTags(str(values.tags)), department: errors.department ? null : department });
        if (!parsed.success) for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message;
        if (Object.keys(errors).length || !parsed.success) return { errors };
        return { fields: parsed.data };
      },
      values: (f) => ({ categories: pageCategories(f).map(String), tags: pageTags(f).join('、'), department: pageDepartment(f) === null ? '' : String(pageDepartment(f)) }),
    },
    80,
  );

  // ---- public pages
  parts.addHead((ctx: PublicPageContext) => {
    const t = ctx.node.page_type;
    if (t === PAGE_TYPES.event) {
      const ev = eventFields(ctx.fields);
      return ev ? <JsonLd data={eventJsonLd(ctx, ev)} nonce={ctx.v.nonce} /> : null;
    }
    if (t === PAGE_TYPES.article || t === PAGE_TYPES.interview) return <JsonLd data={articleJsonLd(ctx, articleFields(ctx.fields))} nonce={ctx.v.nonce} />;
    return null;
  }, 50);

  parts.addBeforeBody((ctx: PublicPageContext) => {
    const { node, fields } = ctx;
    switch (node.page_type) {
      case PAGE_TYPES.news: {
        const news = newsFields(fields) ?? { important: false, urgent: false, endHint: null };
        return <NewsMeta news={news} publishedAt={node.published_at} />;
      }
      case PAGE_TYPES.event: {
        const ev = eventFields(fields);
        return ev ? <EventInfo event={ev} icsHref={icsHref(ctx.prefix, node.path)} /> : null;
      }
      case PAGE_TYPES.spot: {
        const spot = spotFields(fields);
        return spot ? <SpotInfo spot={spot} title={ctx.version.title} /> : null;
      }
      case PAGE_TYPES.article:
      case PAGE_TYPES.interview: {
        const a = articleFields(fields);
        return a ? <ArticleHeader article={a} interview={node.page_type === PAGE_TYPES.interview} publishedAt={node.published_at} /> : null;
      }
      case PAGE_TYPES.video: {
        const video = videoFields(fields);
        return video ? <VideoPlayer video={video} title={ctx.version.title} /> : null;
      }
      default:
        return null;
    }
  }, 20);

  parts.addAfterBody((ctx: PublicPageContext) => {
    if (ctx.node.page_type === PAGE_TYPES.video) {
      const video = videoFields(ctx.fields);
      return video?.transcript ? <VideoTranscript transcript={video.transcript} /> : null;
    }
    if (ctx.node.page_type === PAGE_TYPES.article || ctx.node.page_type === PAGE_TYPES.interview) {
      const credit = articleFields(ctx.fields)?.photoCredit;
      return credit ? <PhotoCredit credit={credit} /> : null;
    }
    return null;
  }, 20);

  parts.addAfterBody(async (ctx: PublicPageContext) => {
    const ids = pageCategories(ctx.fields);
    const tags = pageTags(ctx.fields);
    if (!ids.length && !tags.length) return null;
    const cats = ids.length ? (await categories.list(ctx.site.id)).filter((c) => ids.includes(c.id)) : [];
    return <PageTaxonomy prefix={ctx.prefix} categories={cats} tags={tags} search={(t) => `${ctx.prefix}/search?${new URLSearchParams({ q: t }).toString()}`} />;
  }, 80);

  parts.addAfterBody(async (ctx: PublicPageContext) => {
    if (ctx.isTop) return null;
    const orgId = pageDepartment(ctx.fields) ?? ctx.node.organization_id;
    if (orgId === null) return null;
    const contact = await contacts.get(orgId);
    return contact ? <ContactBlock contact={contact} /> : null;
  }, 90);

  // ---- the category index and the search index's facets follow publish / withdrawal in the same transaction
  parts.onPublishTx(async (tx, { node, version }) => {
    const ids = await categories.indexNode(tx, node, version);
    if (node.status !== 'published' || node.temporarily_hidden !== 0 || !version) return;
    const fields = parseJson<Record<string, unknown>>(version.fields, {});
    const dept = pageDepartment(fields) ?? node.organization_id;
    await cms.search.setFacets(`page:${node.id}`, { categories: ids.map(String), department: dept === null ? null : String(dept) }, tx);
  });

  setSearchFilterSource(cms.search, {
    pageTypes: () => parts.pageTypes().map((t) => ({ key: t.key, label: t.label })),
    categories: async (siteId) => {
      const all = await categories.list(siteId);
      const names = new Map(all.map((c) => [c.id, c.name]));
      return all.map((c) => ({ key: String(c.id), label: c.parentId === null ? c.name : `${names.get(c.parentId) ?? ''} ＞ ${c.name}` }));
    },
  });
}

/**
 * Page types (お知らせ・イベント・スポット・記事・インタビュー・動画) with their fields, editor
 * inputs, public display, JSON-LD and iCal; categories (分野) with their public pages; tags;
 * the 担当課 contact block; search filters by type and category. See README.md.
 */
export const typesFeature: CmsFeature = {
  name: 'cms.types',
  migrations: typesMigrations,
  adminMenu: [
    { label: 'nav.cmsCategories', href: '/admin/cms/categories', permission: 'cms.sites', order: 12 },
    { label: 'nav.cmsContacts', href: '/admin/cms/contacts', permission: 'cms.sites', order: 13 },
  ],
  install,
  routes: mountTypesRoutes,
  seedDemo: seedTypesDemo,
};
