import type { Platform } from '../../../core/platform.js';
import type { Actor } from '../../../core/permissions/index.js';
import { createOrganization, createStaff, systemActor } from '../../../../test/helpers/platform.js';
import { cmsOf } from '../index.js';
import { workflowOf } from './index.js';

export const meta = { ip: '127.0.0.1', userAgent: 'test' };

let n = 0;

/**
 * Test fixture (imported by the workflow's tests only). A city with two departments and a site of its own, a second city with its own site, and the
 * staff the workflow tests need: an editor, three approvers, two site administrators (who hold
 * cms.a11y_override) and an approver of the other city.
 */
export async function workflowFixture(p: Platform) {
  n++;
  const cms = cmsOf(p);
  const wf = workflowOf(p);
  const sys = systemActor(p);
  const city = await createOrganization(p, { name: `承認テスト市${n}` });
  const deptA = await createOrganization(p, { name: `承認テスト市${n} 広報課`, kind: 'department', parentId: city });
  const deptB = await createOrganization(p, { name: `承認テスト市${n} 総務課`, kind: 'department', parentId: city });
  const other = await createOrganization(p, { name: `よその町${n}` });
  const siteId = await cms.sites.create(sys, { key: `wf${n}`, name: `承認テスト市${n}`, pathPrefix: `/s/wf${n}`, organizationId: city }, meta);
  const otherSiteId = await cms.sites.create(sys, { key: `wfother${n}`, name: `よその町${n}`, pathPrefix: `/s/wfother${n}`, organizationId: other }, meta);
  const root = await cms.pages.root(siteId);
  await cms.pages.publish(sys, root.id, meta);
  const otherRoot = await cms.pages.root(otherSiteId);
  await cms.pages.publish(sys, otherRoot.id, meta);
  const folder = async (parentId: number, slug: string, title: string, org?: number) => {
    const id = await cms.pages.create(sys, { siteId, parentId, kind: 'folder', slug, title, body: '', organizationId: org }, meta);
    await cms.pages.publish(sys, id, meta);
    return id;
  };
  const kurashi = await folder(root.id, 'kurashi', 'くらし');
  const gomi = await folder(kurashi, 'gomi', 'ごみ');
  /** A folder of the editor's department, where the editor may create pages. */
  const kouhou = await folder(root.id, 'kouhou', '広報', deptA);
  let people = 0;
  const staff = async (name: string, roles: string[], org: number) => {
    const s = await createStaff(p, { roles, organizationId: org, displayName: name, email: `wf${n}-${++people}@example.jp` });
    return { ...s, email: `wf${n}-${people}@example.jp`, actor: (await p.auth.actorFor(s.id))! as Actor };
  };
  const editor = await staff(`作成 花子${n}`, ['editor'], deptA);
  const editor2 = await staff(`作成 次郎${n}`, ['editor'], deptA);
  const ap1 = await staff(`承認 一郎${n}`, ['approver'], city);
  const ap2 = await staff(`承認 二郎${n}`, ['approver'], city);
  const ap3 = await staff(`承認 三郎${n}`, ['approver'], deptA);
  const admin1 = await staff(`管理 一子${n}`, ['site_admin'], city);
  const admin2 = await staff(`管理 二子${n}`, ['site_admin'], city);
  const outsider = await staff(`よその 承認者${n}`, ['approver'], other);
  /** A page (draft) written by the editor. */
  const page = async (parentId: number, slug: string, opts: { title?: string; body?: string; org?: number } = {}) =>
    cms.pages.create(editor.actor, { siteId, parentId, kind: 'page', slug, title: opts.title ?? slug, body: opts.body ?? '<p>本文です。</p>', organizationId: opts.org ?? deptA }, meta);
  return { cms, wf, sys, city, deptA, deptB, other, siteId, otherSiteId, rootId: root.id, otherRootId: otherRoot.id, kurashi, gomi, kouhou, editor, editor2, ap1, ap2, ap3, admin1, admin2, outsider, page, prefix: `/s/wf${n}` };
}
