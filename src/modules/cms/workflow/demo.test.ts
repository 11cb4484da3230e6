import { expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { ensureInitialAdministrator, seedDemoContent } from '../../../main.js';
import { cmsOf } from '../index.js';

describePlatform('CMS approval workflow demo content', {}, (tp) => {
  it('gives the demo city a default one-level route approved by the demo administrator, made once the administrator exists (as at first start)', async () => {
    const p = tp().platform;
    await seedDemoContent(p);
    expect(await p.db.selectFrom('cms_workflow_routes').selectAll().execute()).toEqual([]); // nobody to name yet
    const admin = await ensureInitialAdministrator(p);
    expect(admin?.loginId).toBe('admin');
    await seedDemoContent(p);
    await seedDemoContent(p); // idempotent
    const routes = await p.db.selectFrom('cms_workflow_routes').selectAll().execute();
    expect(routes).toHaveLength(1);
    const adminId = (await p.db.selectFrom('users').select('id').where('login_id', '=', 'admin').executeTakeFirstOrThrow()).id;
    expect(JSON.parse(routes[0]!.levels)).toEqual([{ rule: 'any', approverIds: [adminId] }]);
    const site = (await cmsOf(p).sites.all()).find((s) => s.key === 'aoba')!;
    expect(routes[0]!.site_id).toBe(site.id);
    expect(routes[0]!.folder_id).toBeNull();
  });
});
