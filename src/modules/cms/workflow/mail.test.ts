import { beforeAll, expect, it } from 'vitest';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { meta, workflowFixture } from './test-fixture.js';

type Fixture = Awaited<ReturnType<typeof workflowFixture>>;

describePlatform('CMS approval workflow mail (real SMTP)', { smtp: true }, (tp) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await workflowFixture(tp().platform);
  });

  const area = async (slug: string, levels: Array<{ rule: 'any' | 'all'; approverIds: number[] }>) => {
    const folder = await f.cms.pages.create(f.sys, { siteId: f.siteId, parentId: f.rootId, kind: 'folder', slug, title: slug, body: '' }, meta);
    await f.cms.pages.publish(f.sys, folder, meta);
    await f.wf.routes.save(f.admin1.actor, null, { siteId: f.siteId, name: `${slug}ルート`, folderId: folder, levels }, meta);
    return folder;
  };
  const deliver = () => tp().platform.jobs.drain();
  const smtp = () => tp().smtp!;

  it('each approver of a level is mailed when it becomes their turn; the requester gets the approval with the public address', async () => {
    const folder = await area('mail', [{ rule: 'all', approverIds: [f.ap1.id, f.ap2.id] }, { rule: 'any', approverIds: [f.admin2.id] }]);
    const id = await f.page(folder, 'notice', { title: '断水のお知らせ' });
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, { comment: '至急お願いします' }, meta);
    await deliver();
    const link = `${tp().baseUrl}/admin/cms/workflow/requests/${rid}`;
    for (const ap of [f.ap1, f.ap2]) {
      const m = await smtp().waitFor((x) => x.to.includes(ap.email) && x.subject === '【承認依頼】断水のお知らせ');
      expect(m.text).toContain(`${ap.actor.displayName} 様`);
      expect(m.text).toContain('第1段／全2段');
      expect(m.text).toContain(`依頼者: ${f.editor.actor.displayName}`);
      expect(m.text).toContain('コメント: 至急お願いします');
      expect(m.text).toContain(link);
    }
    // Level 2 hears nothing until level 1 is done.
    expect(smtp().messages.some((x) => x.to.includes(f.admin2.email))).toBe(false);
    await f.wf.service.approve(f.ap1.actor, rid, {}, meta);
    await f.wf.service.approve(f.ap2.actor, rid, {}, meta);
    await deliver();
    const turn = await smtp().waitFor((x) => x.to.includes(f.admin2.email) && x.subject === '【承認依頼】断水のお知らせ');
    expect(turn.text).toContain('第2段／全2段');
    await f.wf.service.approve(f.admin2.actor, rid, { comment: 'OK' }, meta);
    await deliver();
    const done = await smtp().waitFor((x) => x.to.includes(f.editor.email) && x.subject === '【承認・公開】断水のお知らせ');
    expect(done.text).toContain('承認され、公開されました');
    expect(done.text).toContain(`公開ページ: ${tp().baseUrl}${f.prefix}/mail/notice`);
    expect(done.text).toContain(`最終承認者: ${f.admin2.actor.displayName}`);
    expect(done.headers['auto-submitted']).toBe('auto-generated');
  });

  it('a send-back mails the requester with the reason', async () => {
    const folder = await area('mailback', [{ rule: 'any', approverIds: [f.ap1.id] }]);
    const id = await f.page(folder, 'event', { title: '夏祭りのご案内' });
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    await f.wf.service.sendBack(f.ap1.actor, rid, { reason: '開催時間が抜けています。\n会場の地図も添えてください。' }, meta);
    await deliver();
    const m = await smtp().waitFor((x) => x.to.includes(f.editor.email) && x.subject === '【差し戻し】夏祭りのご案内');
    expect(m.text).toContain('開催時間が抜けています。\n会場の地図も添えてください。');
    expect(m.text).toContain(`差し戻した人: ${f.ap1.actor.displayName}`);
  });

  it('a scheduled approval mails the time, and the publication later', async () => {
    const folder = await area('mailsched', [{ rule: 'any', approverIds: [f.ap1.id] }]);
    const id = await f.page(folder, 'later', { title: '来月の休館日' });
    const at = new Date(Math.ceil((Date.now() + 3 * 3600_000) / 60_000) * 60_000);
    const rid = await f.wf.service.requestApproval(f.editor.actor, id, { publishAt: at }, meta);
    await f.wf.service.approve(f.ap1.actor, rid, {}, meta);
    await deliver();
    const approved = await smtp().waitFor((x) => x.to.includes(f.editor.email) && x.subject === '【承認】来月の休館日');
    expect(approved.text).toContain('に公開されます');
    await f.cms.pages.runSchedule(new Date(at.getTime() + 60_000));
    await deliver();
    const published = await smtp().waitFor((x) => x.to.includes(f.editor.email) && x.subject === '【公開】来月の休館日');
    expect(published.text).toContain(`${f.prefix}/mailsched/later`);
  });

  it('a title with CR/LF cannot add headers or recipients', async () => {
    const folder = await area('mailinject', [{ rule: 'any', approverIds: [f.ap1.id] }]);
    const id = await f.page(folder, 'inject');
    await f.cms.pages.saveDraft(f.editor.actor, id, { title: 'お知らせ\r\nBcc: evil@example.com\r\nX-Injected: 1', body: '<p>本文</p>' }, meta);
    const before = smtp().messages.length;
    await f.wf.service.requestApproval(f.editor.actor, id, {}, meta);
    await deliver();
    const m = await smtp().waitFor((x) => x.to.includes(f.ap1.email) && x.subject.startsWith('【承認依頼】お知らせ'));
    expect(m.subject).toBe('【承認依頼】お知らせ Bcc: evil@example.com X-Injected: 1');
    expect(m.to).toEqual([f.ap1.email]);
    expect(m.headers['bcc']).toBeUndefined();
    expect(m.headers['x-injected']).toBeUndefined();
    expect(smtp().messages.slice(before).some((x) => x.to.includes('evil@example.com'))).toBe(false);
  });
});
