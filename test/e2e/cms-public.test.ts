import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestPlatform, systemActor, type TestPlatform } from '../helpers/platform.js';
import { cmsOf } from '../../src/modules/cms/index.js';
import { seedDemoSite } from '../../src/modules/cms/demo.js';
import { checkA11y, describeE2E, loginAs, newPage, useBrowser, visit } from './helpers.js';
import { createStaff } from '../helpers/platform.js';

describeE2E('CMS public site in the browser', (engine) => {
  const browser = useBrowser();
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform(engine);
    await seedDemoSite(tp.platform, cmsOf(tp.platform), systemActor(tp.platform));
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('the demo city site: top, folder and page templates pass axe and link by breadcrumbs', async () => {
    const page = await newPage(browser(), tp.baseUrl);
    for (const path of ['/', '/kurashi/', '/kurashi/gomi', '/bousai/hinanjo', '/kankou/sakura-matsuri', '/search?q=%E3%81%94%E3%81%BF', '/no-such-page']) {
      if (path === '/no-such-page') {
        expect(await visit(page, path)).toBe(404);
        await checkA11y(page, 'cms 404');
        continue;
      }
      expect(await visit(page, path)).toBe(200);
      await checkA11y(page, `cms ${path}`);
    }
    await visit(page, '/kurashi/gomi');
    expect(await page.title()).toBe('ごみの出し方と収集日 | あおば市');
    await page.getByRole('navigation', { name: '現在位置' }).getByRole('link', { name: 'くらし・手続き' }).click();
    await page.waitForURL('**/kurashi/');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('くらし・手続き');
    await page.context().close();
  });

  it('the page manager and the edit screen with the editor and the accessibility checker pass axe', async () => {
    const admin = await createStaff(tp.platform, { roles: ['system_admin'] });
    const page = await newPage(browser(), tp.baseUrl);
    await loginAs(page, admin.loginId, admin.password);
    expect(await visit(page, '/admin/cms')).toBe(200);
    await checkA11y(page, 'cms tree');
    await page.getByRole('link', { name: 'ごみの出し方と収集日' }).click();
    await page.waitForURL('**/admin/cms/nodes/*');
    await page.locator('.ProseMirror').waitFor();
    await checkA11y(page, 'cms edit page');
    await page.context().close();
  });

  it('a page withdrawn temporarily disappears from its folder list at once', async () => {
    const p = tp.platform;
    const cms = cmsOf(p);
    const site = (await cms.sites.all())[0]!;
    const gomi = await cms.pages.findPublic(site.id, '/kurashi/gomi');
    const page = await newPage(browser(), tp.baseUrl);
    await visit(page, '/kurashi/');
    expect(await page.getByRole('link', { name: 'ごみの出し方と収集日' }).count()).toBe(1);
    await cms.pages.setTemporarilyHidden(systemActor(p), gomi!.node.id, true, { ip: '127.0.0.1', userAgent: 'e2e' });
    await visit(page, '/kurashi/');
    expect(await page.getByRole('link', { name: 'ごみの出し方と収集日' }).count()).toBe(0);
    expect(await visit(page, '/kurashi/gomi')).toBe(404);
    await page.context().close();
  });
});
