import { expect, it } from 'vitest';
import { describePlatform } from '../../../test/helpers/engines.js';
import { HttpClient } from '../../../test/helpers/http-client.js';
import { createOrganization, createStaff, systemActor } from '../../../test/helpers/platform.js';
import { cmsOf } from '../cms/index.js';
import { createSampleForm } from './fixtures.js';
import { formsOf } from './services.js';
import { confirmFields, validAnswers } from './testing.js';

const meta = { ip: '127.0.0.1', userAgent: 'test' };

describePlatform('forms: embedded in CMS pages', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000', RATE_LIMIT_PUBLIC_POST_PER_MINUTE: '10000' } }, (tp, engine) => {
  let siteId = 0;
  let nodeId = 0;
  let formId = 0;
  let slug = '';
  let orgId = 0;
  const path = '/s/embed/apply';

  it('a page embedding a form renders the same HTML for every visitor: no token, no start time, the form hidden behind a link', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const actor = systemActor(p);
    orgId = await createOrganization(p, { name: `埋込市${engine}` });
    siteId = await cms.sites.create(actor, { key: `embed${engine}`, name: '埋込市', pathPrefix: '/s/embed', organizationId: orgId }, meta);
    const root = await cms.pages.root(siteId);
    await cms.pages.publish(actor, root.id, meta);
    const { form } = await createSampleForm(p, actor, { slug: `emb-${engine}`, title: '講座の申込み', organizationId: orgId, settings: { minFillSeconds: '0' } });
    formId = form.id;
    slug = form.slug;
    nodeId = await cms.pages.create(actor, { siteId, parentId: root.id, kind: 'page', slug: 'apply', title: '申込み', body: '<p>こちらから申し込めます。</p>', fields: { formId } }, meta);
    await cms.pages.publish(actor, nodeId, meta);
    expect(await formsOf(p).forms.embeds(formId)).toEqual([{ nodeId, siteId, path: '/apply' }]);

    const a = await new HttpClient(tp().baseUrl).get(path);
    const b = await new HttpClient(tp().baseUrl).get(path);
    expect(a.status).toBe(200);
    expect(b.text).toBe(a.text);
    if (engine === 'sqlite') expect(b.headers.get('x-render-cache')).toBe('hit');
    expect(a.text).toContain('<input type="hidden" name="_csrf" value=""/>');
    expect(a.text).toContain('<input type="hidden" name="_ts" value=""/>');
    expect(a.text).toContain(`data-forms-embed="/forms/${slug}/start"`);
    expect(a.text).toMatch(/<div data-forms-body="" hidden="">/);
    expect(a.text).toContain(`<a href="/forms/${slug}?site=${siteId}">「講座の申込み」の入力ページを開く</a>`);
    expect(a.text).toContain(`<input type="hidden" name="_site" value="${siteId}"/>`);
    expect(a.text).toMatch(/<script src="\/assets\/forms\.[0-9a-f]{10}\.js" defer=""><\/script>/);
    // Nothing inline that runs (structured data from the SEO feature is not a script).
    expect(a.text).not.toMatch(/<script(?![^>]*\b(src=|type="application\/ld\+json"))[^>]*>/);
    // Ids in the embed carry a prefix, so they cannot collide with the page's own.
    expect(a.text).toContain('id="f-embed-website"');
  });

  it('the script asks /start for this visitor\'s token and start time; with them the embedded form posts to the form\'s own address', async () => {
    const p = tp().platform;
    const client = new HttpClient(tp().baseUrl);
    const start = await client.get(`/forms/${slug}/start`);
    expect(start.headers.get('cache-control')).toBe('no-store');
    const data = JSON.parse(start.text) as { state: string; csrf: string; ts: string };
    expect(data.state).toBe('open');
    expect(client.cookies.has('mm_anon')).toBe(true);
    const questions = await formsOf(p).forms.questions(formId);
    const confirm = await client.post(`/forms/${slug}/confirm`, { _ts: data.ts, _site: String(siteId), website: '', ...validAnswers(questions) }, { csrf: data.csrf });
    expect(confirm.status).toBe(200);
    // The confirmation and completion are shown in the site's own frame.
    expect(confirm.text).toContain('href="/s/embed/"');
    const sent = await client.post(`/forms/${slug}/submit`, confirmFields(confirm.text));
    expect(sent.status).toBe(303);
    expect(sent.location).toContain(`&site=${siteId}`);
    const other = JSON.parse((await new HttpClient(tp().baseUrl).get(`/forms/${slug}/start`)).text) as { csrf: string };
    expect(other.csrf).not.toBe(data.csrf);
  });

  it('closing or editing the form clears the cached page at once; a closed form says so in the page', async () => {
    const p = tp().platform;
    const actor = systemActor(p);
    const { forms } = formsOf(p);
    await new HttpClient(tp().baseUrl).get(path);
    await forms.close(actor, (await forms.get(formId))!, { actor });
    const closed = await new HttpClient(tp().baseUrl).get(path);
    expect(closed.headers.get('x-render-cache')).not.toBe('hit');
    expect(closed.text).toContain('data-testid="form-closed"');
    expect(closed.text).not.toContain('確認画面へ進む');
    expect(JSON.parse((await new HttpClient(tp().baseUrl).get(`/forms/${slug}/start`)).text)).toEqual({ state: 'closed', message: 'このフォームの受付は終了しました。' });
    await forms.reopen(actor, (await forms.get(formId))!, { actor });
    await new HttpClient(tp().baseUrl).get(path);
    const [q] = await forms.questions(formId);
    await forms.updateQuestion(actor, (await forms.get(formId))!, q!.id, { type: q!.type, label: '申込者について' }, { actor });
    const edited = await new HttpClient(tp().baseUrl).get(path);
    expect(edited.text).toContain('申込者について');
    await forms.unpublish(actor, (await forms.get(formId))!, { actor });
    const hidden = await new HttpClient(tp().baseUrl).get(path);
    expect(hidden.text).not.toContain('data-forms-embed');
    await forms.publish(actor, (await forms.get(formId))!, { actor });
  });

  it('the page editor offers the forms of the editor\'s organisations and refuses an unknown one; withdrawing the page forgets the embed', async () => {
    const p = tp().platform;
    const cms = cmsOf(p);
    const elsewhere = await createSampleForm(p, systemActor(p), { slug: `elsewhere-${engine}`, title: 'よその町のフォーム', organizationId: await createOrganization(p, { name: `よその町${engine}` }) });
    const staff = await createStaff(p, { roles: ['site_admin'], organizationId: orgId });
    const client = new HttpClient(tp().baseUrl);
    await client.login(staff.loginId, staff.password);
    const edit = await client.get(`/admin/cms/nodes/${nodeId}`);
    expect(edit.status).toBe(200);
    expect(edit.text).toMatch(new RegExp(`<option value="${formId}" selected="">講座の申込み（受付中）</option>`));
    expect(edit.text).not.toContain('よその町のフォーム');
    const bad = await client.post(`/admin/cms/nodes/${nodeId}`, { title: '申込み', body: '<p>こちらから申し込めます。</p>', formId: '999999', intent: 'save' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('選んだフォームが見つかりません。');
    expect(elsewhere.form.id).toBeGreaterThan(0);
    await cms.pages.unpublish(systemActor(p), nodeId, meta);
    expect(await formsOf(p).forms.embeds(formId)).toEqual([]);
  });
});
