import { siteOrigin } from '../frame.js';
import type { Context, Hono } from 'hono';
import { requestMeta } from '../../../core/http/app.js';
import { renderError } from '../../../core/http/errors.js';
import type { AppEnv } from '../../../core/http/types.js';
import { readForm, str } from '../../../core/http/validate.js';
import { InputError } from '../../../core/errors.js';
import type { Platform } from '../../../core/platform.js';
import type { Actor } from '../../../core/permissions/index.js';
import { Csrf, ErrorSummary, Notice, SelectField, TextArea, TextField, type FieldErrors } from '../../../core/ui/forms.js';
import { AdminLayout } from '../../../core/ui/layout.js';
import { viewOf, publicViewOf } from '../../../core/ui/view.js';
import { actorOf, requirePermission } from '../../admin/guards.js';
import { SiteFrame } from '../frame.js';
import type { CmsServices } from '../index.js';
import type { Site } from '../sites.js';
import { categoriesOf, type CategoryRecord } from './categories.js';
import { contactsOf, type ContactInput } from './contacts.js';
import { eventFields, PAGE_TYPES } from './fields.js';
import { formatInstantDateJa } from './format.js';
import { eventCalendar } from './ical.js';

const CATEGORY_LABELS = { name: '分野の名前', slug: 'URLの名前', parentId: '大分類', description: '説明' };
const CONTACT_LABELS = { displayName: '表示名', phone: '電話番号', fax: 'FAX番号', email: 'メールアドレス', address: '所在地', hours: '受付時間' };
const PER_PAGE = 20;

/** Sites the actor may configure: those of its organisations (a site without one: all-organisation staff only). */
async function manageableSites(p: Platform, cms: CmsServices, actor: Actor): Promise<Site[]> {
  const out: Site[] = [];
  for (const s of await cms.sites.all()) {
    if (s.organizationId === null ? actor.allOrganizations : await p.organizations.canAccess(actor, s.organizationId)) out.push(s);
  }
  return out;
}

/**
 * Staff screens for categories (分野) and department contacts, and the public category pages and
 * iCal downloads, mounted before the page catch-all.
 */
export function mountTypesRoutes(app: Hono<AppEnv>, p: Platform, cms: CmsServices) {
  const categories = categoriesOf(p);
  const contacts = contactsOf(p);
  app.use('/admin/cms/categories', requirePermission('cms.sites'));
  app.use('/admin/cms/categories/*', requirePermission('cms.sites'));
  app.use('/admin/cms/contacts', requirePermission('cms.sites'));
  app.use('/admin/cms/contacts/*', requirePermission('cms.sites'));

  /** The category named in the URL when the actor may manage its site. */
  const loadCategory = async (c: Context<AppEnv>): Promise<{ cat: CategoryRecord; site: Site } | null> => {
    const cat = await categories.get(Number(c.req.param('id')));
    if (!cat) return null;
    const site = (await manageableSites(p, cms, actorOf(c))).find((s) => s.id === cat.siteId);
    return site ? { cat, site } : null;
  };

  const announce = (siteId: number) => cms.pages.notifyChanged({ siteId, nodeId: 0, path: '/', kind: 'settings' });

  const categoriesPage = async (c: Context<AppEnv>, site: Site, sites: Site[], opts: { values?: Record<string, string>; errors?: FieldErrors; notice?: string } = {}) => {
    const v = viewOf(c);
    const list = await categories.list(site.id);
    const usage = await Promise.all(list.map((cat) => categories.usage(cat.id)));
    const tops = list.filter((x) => x.depth === 0);
    const values = opts.values ?? {};
    return (
      <AdminLayout v={v} title="分野の管理" menu={p.menu}>
        {opts.notice ? <Notice kind="success"><p>{opts.notice}</p></Notice> : null}
        <ErrorSummary v={v} errors={opts.errors} labels={CATEGORY_LABELS} />
        {sites.length > 1 ? (
          <nav aria-label="サイトの切り替え">
            <ul class="site-menu">
              {sites.map((s) => (
                <li>{s.id === site.id ? <strong aria-current="page">{s.name}</strong> : <a href={`/admin/cms/categories?site=${s.id}`}>{s.name}</a>}</li>
              ))}
            </ul>
          </nav>
        ) : null}
        <p>{site.name}の分野（大分類・小分類）です。ページの編集画面で選ぶと、分野ごとの一覧ページ（<code>{site.pathPrefix}/category/URLの名前/</code>）に載ります。</p>
        <div class="table-wrap">
          <table data-testid="category-table">
            <caption>{site.name}の分野の一覧</caption>
            <thead>
              <tr><th scope="col">分野</th><th scope="col">URLの名前</th><th scope="col">公開ページ数</th><th scope="col">並べ替え</th><th scope="col">{v.t('common.actions')}</th></tr>
            </thead>
            <tbody>
              {list.map((cat, i) => {
                const siblings = list.filter((x) => x.parentId === cat.parentId);
                const at = siblings.indexOf(cat);
                const label = cat.depth ? `${tops.find((t) => t.id === cat.parentId)?.name ?? ''} ＞ ${cat.name}` : cat.name;
                return (
                  <tr>
                    <td>{cat.depth ? '　└ ' : ''}<a href={`/admin/cms/categories/${cat.id}`}>{cat.name}</a></td>
                    <td><a href={`${site.pathPrefix}/category/${cat.slug}/`}><code>{cat.slug}</code></a></td>
                    <td>{usage[i]!.publicPages}件</td>
                    <td>
                      {at > 0 ? (
                        <form method="post" action={`/admin/cms/categories/${cat.id}/move`} class="inline-form">
                          <Csrf v={v} />
                          <input type="hidden" name="direction" value="up" />
                          <button type="submit" class="button--small button--secondary">上へ<span class="visually-hidden">: {label}</span></button>
                        </form>
                      ) : null}
                      {at < siblings.length - 1 ? (
                        <form method="post" action={`/admin/cms/categories/${cat.id}/move`} class="inline-form">
                          <Csrf v={v} />
                          <input type="hidden" name="direction" value="down" />
                          <button type="submit" class="button--small button--secondary">下へ<span class="visually-hidden">: {label}</span></button>
                        </form>
                      ) : null}
                    </td>
                    <td><a href={`/admin/cms/categories/${cat.id}`}>名前の変更・削除<span class="visually-hidden">: {label}</span></a></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        {list.length ? null : <p>分野はまだありません。</p>}
        <section aria-labelledby="category-new-title">
          <h2 id="category-new-title">分野を追加する</h2>
          <form method="post" action="/admin/cms/categories" class="form" novalidate>
            <Csrf v={v} />
            <input type="hidden" name="siteId" value={String(site.id)} />
            <TextField v={v} name="name" label={CATEGORY_LABELS.name} required value={values.name ?? ''} errors={opts.errors} hint="例: 子育て・教育" />
            <TextField v={v} name="slug" label={CATEGORY_LABELS.slug} required value={values.slug ?? ''} errors={opts.errors} hint="半角英小文字・数字・ハイフン（例: kosodate）。一覧ページのURLになります。" spellcheck={false} />
            <SelectField v={v} name="parentId" label={CATEGORY_LABELS.parentId} value={values.parentId ?? ''} emptyLabel="なし（これを大分類にする）" options={tops.map((t) => ({ value: t.id, label: t.name }))} errors={opts.errors} hint="小分類にするときは、上の大分類を選んでください。" />
            <TextArea v={v} name="description" label={CATEGORY_LABELS.description} value={values.description ?? ''} rows={2} errors={opts.errors} hint="一覧ページの上に表示します（任意）。" />
            <div class="actions"><button type="submit">追加する</button></div>
          </form>
        </section>
      </AdminLayout>
    );
  };

  app.get('/admin/cms/categories', async (c) => {
    const sites = await manageableSites(p, cms, actorOf(c));
    const site = sites.find((s) => String(s.id) === c.req.query('site')) ?? sites[0];
    if (!site) return renderError(c, 404, 'error.notFound');
    return c.html(await categoriesPage(c, site, sites, { notice: c.req.query('saved') ? viewOf(c).t('common.saved') : undefined }));
  });

  app.post('/admin/cms/categories', async (c) => {
    const values = await readForm(c);
    const sites = await manageableSites(p, cms, actorOf(c));
    const site = sites.find((s) => String(s.id) === str(values.siteId));
    if (!site) return renderError(c, 404, 'error.notFound');
    const input = { name: str(values.name), slug: str(values.slug), parentId: str(values.parentId) ? Number(str(values.parentId)) : null, description: str(values.description) };
    try {
      await categories.create(actorOf(c), { siteId: site.id, ...input }, requestMeta(c));
    } catch (e) {
      if (e instanceof InputError) return c.html(await categoriesPage(c, site, sites, { values: { name: input.name, slug: input.slug, parentId: str(values.parentId), description: input.description }, errors: e.fields }), 422);
      throw e;
    }
    return c.redirect(`/admin/cms/categories?site=${site.id}&saved=1`, 303);
  });

  const editCategoryPage = async (c: Context<AppEnv>, cat: CategoryRecord, site: Site, opts: { values?: Record<string, string>; errors?: FieldErrors } = {}) => {
    const v = viewOf(c);
    const tops = (await categories.list(site.id)).filter((x) => x.depth === 0 && x.id !== cat.id);
    const use = await categories.usage(cat.id);
    const values = opts.values ?? { name: cat.name, slug: cat.slug, parentId: cat.parentId === null ? '' : String(cat.parentId), description: cat.description };
    return (
      <AdminLayout v={v} title={`分野の編集: ${cat.name}`} menu={p.menu}>
        <ErrorSummary v={v} errors={opts.errors} labels={CATEGORY_LABELS} />
        <p><a href={`/admin/cms/categories?site=${site.id}`}>分野の一覧へ戻る</a></p>
        <form method="post" action={`/admin/cms/categories/${cat.id}`} class="form" novalidate>
          <Csrf v={v} />
          <TextField v={v} name="name" label={CATEGORY_LABELS.name} required value={values.name ?? ''} errors={opts.errors} />
          <TextField v={v} name="slug" label={CATEGORY_LABELS.slug} required value={values.slug ?? ''} errors={opts.errors} hint="変えると一覧ページのURLも変わります。" spellcheck={false} />
          <SelectField v={v} name="parentId" label={CATEGORY_LABELS.parentId} value={values.parentId ?? ''} emptyLabel="なし（大分類）" options={tops.map((t) => ({ value: t.id, label: t.name }))} errors={opts.errors} />
          <TextArea v={v} name="description" label={CATEGORY_LABELS.description} value={values.description ?? ''} rows={2} errors={opts.errors} />
          <div class="actions"><button type="submit">保存する</button></div>
        </form>
        <section aria-labelledby="category-delete-title">
          <h2 id="category-delete-title">分野の削除</h2>
          <p>使用状況: 公開中のページ {use.publicPages}件、この分野を選んでいるページ（下書きを含む）{use.pages}件、小分類 {use.children}個。使われている分野は削除できません。</p>
          <form method="post" action={`/admin/cms/categories/${cat.id}/delete`}>
            <Csrf v={v} />
            <button type="submit" class="button--danger">この分野を削除する</button>
          </form>
        </section>
      </AdminLayout>
    );
  };

  app.get('/admin/cms/categories/:id{[0-9]+}', async (c) => {
    const found = await loadCategory(c);
    if (!found) return renderError(c, 404, 'error.notFound');
    return c.html(await editCategoryPage(c, found.cat, found.site));
  });

  app.post('/admin/cms/categories/:id{[0-9]+}', async (c) => {
    const found = await loadCategory(c);
    if (!found) return renderError(c, 404, 'error.notFound');
    const values = await readForm(c);
    const form = { name: str(values.name), slug: str(values.slug), parentId: str(values.parentId), description: str(values.description) };
    try {
      await categories.update(actorOf(c), found.cat.id, { ...form, parentId: form.parentId ? Number(form.parentId) : null }, requestMeta(c));
    } catch (e) {
      if (e instanceof InputError) return c.html(await editCategoryPage(c, found.cat, found.site, { values: form, errors: e.fields }), 422);
      throw e;
    }
    await announce(found.site.id);
    return c.redirect(`/admin/cms/categories?site=${found.site.id}&saved=1`, 303);
  });

  app.post('/admin/cms/categories/:id{[0-9]+}/move', async (c) => {
    const found = await loadCategory(c);
    if (!found) return renderError(c, 404, 'error.notFound');
    const direction = str((await readForm(c)).direction) === 'up' ? 'up' : 'down';
    await categories.move(actorOf(c), found.cat.id, direction, requestMeta(c));
    await announce(found.site.id);
    return c.redirect(`/admin/cms/categories?site=${found.site.id}&saved=1`, 303);
  });

  app.post('/admin/cms/categories/:id{[0-9]+}/delete', async (c) => {
    const found = await loadCategory(c);
    if (!found) return renderError(c, 404, 'error.notFound');
    try {
      await categories.remove(actorOf(c), found.cat.id, requestMeta(c));
    } catch (e) {
      if (e instanceof InputError) return c.html(await editCategoryPage(c, found.cat, found.site, { errors: e.fields }), 422);
      throw e;
    }
    await announce(found.site.id);
    return c.redirect(`/admin/cms/categories?site=${found.site.id}&saved=1`, 303);
  });

  // ---------------------------------------------------------------- department contacts

  app.get('/admin/cms/contacts', async (c) => {
    const v = viewOf(c);
    const orgs = (await p.organizations.visibleTo(actorOf(c))).filter((o) => o.kind !== 'store' && o.kind !== 'operator');
    const withContacts = await contacts.withContacts();
    return c.html(
      <AdminLayout v={v} title="問い合わせ先の管理" menu={p.menu}>
        {c.req.query('saved') ? <Notice kind="success"><p>{v.t('common.saved')}</p></Notice> : null}
        <p>ページの下の「このページに関するお問い合わせ」に表示する、担当課ごとの連絡先です。ページの担当課は、ページの所属組織か、編集画面で選んだ担当課です。</p>
        <div class="table-wrap">
          <table>
            <caption>組織ごとの問い合わせ先</caption>
            <thead><tr><th scope="col">組織</th><th scope="col">登録</th><th scope="col">{v.t('common.actions')}</th></tr></thead>
            <tbody>
              {orgs.map((o) => (
                <tr>
                  <td>{o.name}</td>
                  <td>{withContacts.has(o.id) ? '登録済み' : '未登録'}</td>
                  <td><a href={`/admin/cms/contacts/${o.id}`}>編集<span class="visually-hidden">: {o.name}</span></a></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </AdminLayout>,
    );
  });

  const contactPage = async (c: Context<AppEnv>, orgId: number, orgName: string, values: ContactInput, errors?: FieldErrors) => {
    const v = viewOf(c);
    return (
      <AdminLayout v={v} title={`問い合わせ先の編集: ${orgName}`} menu={p.menu}>
        <ErrorSummary v={v} errors={errors} labels={CONTACT_LABELS} />
        <p><a href="/admin/cms/contacts">問い合わせ先の一覧へ戻る</a></p>
        <form method="post" action={`/admin/cms/contacts/${orgId}`} class="form" novalidate>
          <Csrf v={v} />
          <TextField v={v} name="displayName" label={CONTACT_LABELS.displayName} value={values.displayName ?? ''} errors={errors} hint={`空欄なら組織名（${orgName}）を表示します。`} />
          <TextField v={v} name="phone" type="tel" label={CONTACT_LABELS.phone} value={values.phone ?? ''} errors={errors} hint="例: 043-123-4567" autocomplete="off" />
          <TextField v={v} name="fax" type="tel" label={CONTACT_LABELS.fax} value={values.fax ?? ''} errors={errors} autocomplete="off" />
          <TextField v={v} name="email" type="email" label={CONTACT_LABELS.email} value={values.email ?? ''} errors={errors} autocomplete="off" />
          <TextField v={v} name="address" label={CONTACT_LABELS.address} value={values.address ?? ''} errors={errors} hint="例: 本庁舎2階 または 〒000-0000 あおば市中央1-1" autocomplete="off" />
          <TextField v={v} name="hours" label={CONTACT_LABELS.hours} value={values.hours ?? ''} errors={errors} hint="例: 平日 8時30分～17時15分" />
          <div class="actions"><button type="submit">保存する</button></div>
        </form>
      </AdminLayout>
    );
  };

  const loadOrg = async (c: Context<AppEnv>) => {
    const id = Number(c.req.param('id'));
    const org = Number.isSafeInteger(id) ? await p.organizations.get(id) : undefined;
    return org && (await p.organizations.canAccess(actorOf(c), org.id)) ? org : null;
  };

  app.get('/admin/cms/contacts/:id{[0-9]+}', async (c) => {
    const org = await loadOrg(c);
    if (!org) return renderError(c, 404, 'error.notFound');
    return c.html(await contactPage(c, org.id, org.name, (await contacts.stored(org.id)) ?? {}));
  });

  app.post('/admin/cms/contacts/:id{[0-9]+}', async (c) => {
    const org = await loadOrg(c);
    if (!org) return renderError(c, 404, 'error.notFound');
    const f = await readForm(c);
    const values: ContactInput = { displayName: str(f.displayName), phone: str(f.phone), fax: str(f.fax), email: str(f.email), address: str(f.address), hours: str(f.hours) };
    try {
      await contacts.save(actorOf(c), org.id, values, requestMeta(c));
    } catch (e) {
      if (e instanceof InputError) return c.html(await contactPage(c, org.id, org.name, values, e.fields), 422);
      throw e;
    }
    // Every site may show this department's contact under its pages.
    for (const s of await cms.sites.all()) await announce(s.id);
    return c.redirect('/admin/cms/contacts?saved=1', 303);
  });

  // ---------------------------------------------------------------- public: category pages, iCal

  app.get('*', async (c, next) => {
    const path = c.req.path;
    const ics = path.endsWith('.ics') || c.req.query('format') === 'ics';
    if ((!ics && !path.includes('/category')) || path.startsWith('/admin') || path.startsWith('/assets/')) return next();
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return next();
    }
    const resolved = await cms.sites.resolve(c.req.header('host') ?? '', decoded);
    if (!resolved) return next();
    const { site, path: inner } = resolved;
    if (ics) return icsResponse(c, cms, site, inner.endsWith('.ics') ? inner.slice(0, -'.ics'.length) : inner, next);
    const m = /^\/category(?:\/([a-z0-9-]+))?(\/?)$/.exec(inner);
    if (!m) return next();
    // A page the site's staff made at this address wins (the name is not reserved in the page tree).
    if (await cms.pages.findPublic(site.id, inner)) return next();
    if (!m[2]) return c.redirect(`${site.pathPrefix}${inner}/`, 301);
    return m[1] ? categoryPage(c, cms, site, m[1], next) : categoryIndex(c, cms, site);
  });

  async function icsResponse(c: Context<AppEnv>, cms: CmsServices, site: Site, pagePath: string, next: () => Promise<void>) {
    const found = await cms.pages.findPublic(site.id, pagePath);
    if (!found || found.node.page_type !== PAGE_TYPES.event) return next();
    const fields = JSON.parse(found.version.fields || '{}') as Record<string, unknown>;
    const ev = eventFields(fields);
    if (!ev) return next();
    const origin = siteOrigin(c, site);
    const url = new URL(origin);
    const pageUrl = `${origin}${site.pathPrefix}${found.node.path}`;
    const body = eventCalendar({
      uid: `cms-${site.key}-${found.node.id}@${url.hostname}`,
      title: found.version.title,
      url: pageUrl,
      description: [found.version.summary ?? '', pageUrl].filter(Boolean).join('\n'),
      event: ev,
      stamp: new Date(found.version.created_at),
      siteName: site.name,
    });
    const name = `${found.node.slug || 'event'}.ics`;
    return c.body(body, 200, {
      'Content-Type': 'text/calendar; charset=utf-8',
      'Content-Disposition': `attachment; filename="${name}"; filename*=UTF-8''${encodeURIComponent(`${found.version.title.slice(0, 60)}.ics`)}`,
      'Cache-Control': 'no-cache',
    });
  }

  async function categoryIndex(c: Context<AppEnv>, cms: CmsServices, site: Site) {
    const v = publicViewOf(c);
    const list = await categories.list(site.id);
    c.header('Cache-Control', 'no-cache');
    return c.html(
      <SiteFrame c={c} v={v} site={site} title="分野から探す">
        <nav aria-label="現在位置" class="breadcrumbs">
          <ol>
            <li><a href={`${site.pathPrefix}/`}>{site.name}</a></li>
            <li aria-current="page">分野から探す</li>
          </ol>
        </nav>
        <h1>分野から探す</h1>
        {list.length ? (
          <ul class="page-list">
            {list.filter((x) => x.depth === 0).map((top) => (
              <li>
                <a href={`${site.pathPrefix}/category/${top.slug}/`}>{top.name}</a>
                {list.some((x) => x.parentId === top.id) ? (
                  <ul class="category-children">
                    {list.filter((x) => x.parentId === top.id).map((sub) => (
                      <li><a href={`${site.pathPrefix}/category/${sub.slug}/`}>{sub.name}</a></li>
                    ))}
                  </ul>
                ) : null}
              </li>
            ))}
          </ul>
        ) : (
          <p>分野はまだありません。</p>
        )}
      </SiteFrame>,
    );
  }

  async function categoryPage(c: Context<AppEnv>, cms: CmsServices, site: Site, slug: string, next: () => Promise<void>) {
    const cat = await categories.bySlug(site.id, slug);
    if (!cat) return next();
    const pageNo = Math.max(1, Math.min(5000, Number.parseInt(c.req.query('page') ?? '1', 10) || 1));
    const { total, items } = await categories.nodesIn(cat.id, { limit: PER_PAGE, offset: (pageNo - 1) * PER_PAGE });
    const pages = Math.max(1, Math.ceil(total / PER_PAGE));
    if (pageNo > pages) return next();
    const all = await categories.list(site.id);
    const parent = cat.parentId === null ? undefined : all.find((x) => x.id === cat.parentId);
    const subs = all.filter((x) => x.parentId === cat.id);
    const typeLabel = new Map(cms.parts.pageTypes().map((t) => [t.key, t.label]));
    const v = publicViewOf(c);
    const base = `${site.pathPrefix}/category/${cat.slug}/`;
    const link = (n: number) => (n === 1 ? base : `${base}?page=${n}`);
    // Never cached: the list follows publish and withdrawal at once.
    c.header('Cache-Control', 'no-cache');
    return c.html(
      <SiteFrame c={c} v={v} site={site} title={`${cat.name}${pageNo > 1 ? `（${pageNo}ページ目）` : ''}`}>
        <nav aria-label="現在位置" class="breadcrumbs">
          <ol>
            <li><a href={`${site.pathPrefix}/`}>{site.name}</a></li>
            <li><a href={`${site.pathPrefix}/category/`}>分野から探す</a></li>
            {parent ? <li><a href={`${site.pathPrefix}/category/${parent.slug}/`}>{parent.name}</a></li> : null}
            <li aria-current="page">{cat.name}</li>
          </ol>
        </nav>
        <h1>{cat.name}</h1>
        {cat.description ? <p class="lead">{cat.description}</p> : null}
        {subs.length ? (
          <nav aria-label={`${cat.name}の小分類`}>
            <ul class="category-children">
              {subs.map((s) => (
                <li><a href={`${site.pathPrefix}/category/${s.slug}/`}>{s.name}</a></li>
              ))}
            </ul>
          </nav>
        ) : null}
        <p role="status" data-testid="category-count">{total}件のページ</p>
        {items.length ? (
          <ul class="page-list" data-testid="category-pages">
            {items.map((it) => (
              <li>
                <a href={`${site.pathPrefix}${it.path}`}>{it.title}</a>
                <span class="result-meta">
                  {'　'}
                  <time datetime={it.publishedAt}>{formatInstantDateJa(it.publishedAt)}</time>
                  {it.pageType !== 'standard' && typeLabel.has(it.pageType) ? `　${typeLabel.get(it.pageType)}` : ''}
                </span>
                {it.summary ? <p>{it.summary}</p> : null}
              </li>
            ))}
          </ul>
        ) : (
          <p>この分野のページはまだありません。</p>
        )}
        {pages > 1 ? (
          <nav class="pagination" aria-label={`${cat.name}のページ送り`}>
            {pageNo > 1 ? <a href={link(pageNo - 1)} rel="prev">前へ</a> : null}
            <span>{pageNo} / {pages}</span>
            {pageNo < pages ? <a href={link(pageNo + 1)} rel="next">次へ</a> : null}
          </nav>
        ) : null}
      </SiteFrame>,
    );
  }
}
