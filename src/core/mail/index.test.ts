import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEngines } from '../../../test/helpers/db.js';
import { startSmtpServer } from '../../../test/helpers/smtp.js';
import { silentLogger } from '../log.js';
import { JobRunner } from '../jobs/index.js';
import { MailService, MailValidationError, validateMail, SENSITIVE_WIPED } from './index.js';

const T0 = new Date('2030-04-01T00:00:00.000Z');
const HOUR = 3_600_000;

describeEngines('mail service', (t, engine) => {
  let clock: Date;
  const open: Array<{ close(): unknown }> = [];

  function setup(smtpUrl: string | undefined, maxAttempts = 3) {
    const log = silentLogger();
    const jobs = new JobRunner({ db: t().handle.db, engine, log, nodeId: 'test', timeZone: 'Asia/Tokyo', now: () => clock });
    const mail = new MailService({ db: t().handle.db, log, jobs, from: 'まちまど市 <noreply@city.example.jp>', smtpUrl, maxAttempts, now: () => clock });
    for (const d of mail.jobDefinitions()) jobs.register(d);
    open.push(mail);
    return { jobs, mail };
  }

  const smtp = async (...args: Parameters<typeof startSmtpServer>) => {
    const s = await startSmtpServer(...args);
    open.push(s);
    return s;
  };

  beforeEach(async () => {
    clock = T0;
    await t().handle.db.deleteFrom('jobs').execute();
    await t().handle.db.deleteFrom('mail_messages').execute();
  });

  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });

  it('delivers a Japanese message over real SMTP and records it as sent', async () => {
    const server = await smtp();
    const { jobs, mail } = setup(server.url);
    const subject = '【まちまど】パスワード再設定のご案内（有効期限：30分）';
    const text = '山田 太郎 様\n\n以下のリンクから手続きしてください。\nhttps://city.example.jp/reset?t=abc\n\n— まちまど市役所 情報政策課';
    const id = await mail.send({ to: 'taro@example.jp', subject, text, html: '<p>山田 太郎 様</p>', category: 'password-reset' });
    expect((await mail.get(id))!.status).toBe('queued');
    expect(await jobs.drain()).toBe(1);

    const received = await server.waitFor((m) => m.to.includes('taro@example.jp'));
    expect(received.from).toBe('noreply@city.example.jp');
    // The subject travels as RFC 2047 encoded words, never as raw 8-bit.
    expect(received.headers['subject']).toMatch(/^=\?UTF-8\?[BQ]\?/i);
    expect(received.subject).toBe(subject);
    expect(received.text).toBe(text);
    expect(received.html).toBe('<p>山田 太郎 様</p>');
    expect(received.raw).not.toMatch(/^bcc:/im);

    const row = (await mail.get(id))!;
    expect(row).toMatchObject({ status: 'sent', attempts: 1, last_error: null, sent_at: T0.toISOString(), category: 'password-reset' });
    expect(row.message_id).toBeTruthy();
    expect(received.headers['message-id']).toBe(row.message_id);
  });

  it('wipes the body of a sensitive message once it has been delivered', async () => {
    const server = await smtp();
    const { jobs, mail } = setup(server.url);
    const text = 'https://city.example.jp/admin/password-reset/SECRET-TOKEN-123';
    const id = await mail.send({ to: 'secret@example.jp', subject: '再設定', text, sensitive: true });
    expect((await mail.get(id))!.text_body).toBe(text);
    await jobs.drain();
    expect((await server.waitFor((m) => m.to.includes('secret@example.jp'))).text).toBe(text);
    const row = (await mail.get(id))!;
    expect(row.status).toBe('sent');
    expect(row.sensitive).toBe(1);
    expect(row.text_body).toBe(SENSITIVE_WIPED);
    expect(row.text_body).not.toContain('SECRET-TOKEN');
  });

  it('stores mail in the outbox without SMTP and queues no delivery job', async () => {
    const { jobs, mail } = setup(undefined);
    const id = await mail.send({ to: 'hanako@example.jp', subject: '受付完了のお知らせ', text: '受付番号 0001' });
    expect((await mail.get(id))!.status).toBe('outbox');
    expect((await jobs.list()).total).toBe(0);
    const { rows, total } = await mail.list({ status: 'outbox', q: 'HANAKO@' });
    expect(total).toBe(1);
    expect(rows[0]!.subject).toBe('受付完了のお知らせ');
    expect((await mail.list({ q: '受付完了' })).total).toBe(1);
    expect((await mail.list({ q: '%' })).total).toBe(0);
  });

  it('rejects header injection and other invalid input, storing nothing', async () => {
    const { jobs, mail } = setup('smtp://127.0.0.1:1');
    const bad: Array<[Parameters<MailService['send']>[0], string]> = [
      [{ to: 'a@example.com\r\nBcc: x@evil.example', subject: '件名', text: '本文' }, 'to'],
      [{ to: 'a@example.com\nBcc: x@evil.example', subject: '件名', text: '本文' }, 'to'],
      [{ to: 'a@example.com\u0000', subject: '件名', text: '本文' }, 'to'],
      [{ to: 'a@example.com, b@example.com', subject: '件名', text: '本文' }, 'to'],
      [{ to: 'Taro <a@example.com>', subject: '件名', text: '本文' }, 'to'],
      [{ to: 'not-an-address', subject: '件名', text: '本文' }, 'to'],
      [{ to: 'a@example.com', subject: 'お知らせ\r\nBcc: x@evil.example', text: '本文' }, 'subject'],
      [{ to: 'a@example.com', subject: 'お知らせ\nBcc: x@evil.example', text: '本文' }, 'subject'],
      [{ to: 'a@example.com', subject: 'あ'.repeat(201), text: '本文' }, 'subject'],
      [{ to: 'a@example.com', subject: '', text: '本文' }, 'subject'],
      [{ to: 'a@example.com', subject: '件名', text: '' }, 'text'],
    ];
    for (const [input, field] of bad) {
      const err = await mail.send(input).catch((e: unknown) => e);
      expect(err, JSON.stringify(input)).toBeInstanceOf(MailValidationError);
      expect(Object.keys((err as MailValidationError).fields)).toContain(field);
      expect((err as MailValidationError).fields[field]).toMatch(/[ぁ-んァ-ヶ一-龠]/);
    }
    expect((await mail.list()).total).toBe(0);
    expect((await jobs.list()).total).toBe(0);
    expect(validateMail({ to: 'a@example.com', subject: 'あ'.repeat(200), text: '本文' }).subject).toHaveLength(200);
  });

  it('writes the message and its job inside the caller transaction', async () => {
    const { jobs, mail } = setup('smtp://127.0.0.1:1');
    await expect(
      t().handle.db.transaction().execute(async (trx) => {
        await mail.send({ to: 'a@example.com', subject: '件名', text: '本文' }, trx);
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect((await mail.list()).total).toBe(0);
    expect((await jobs.list()).total).toBe(0);
  });

  it('retries when the server refuses the recipient, then marks the mail failed with the error', async () => {
    const server = await smtp({ rejectRcpt: (a) => (a.startsWith('nobody@') ? 'No such user here' : undefined) });
    const { jobs, mail } = setup(server.url, 3);
    const id = await mail.send({ to: 'nobody@example.jp', subject: 'お知らせ', text: '本文' });

    expect(await jobs.drain(T0)).toBe(1);
    expect(await mail.get(id)).toMatchObject({ status: 'queued', attempts: 1 });
    expect((await mail.get(id))!.last_error).toMatch(/No such user here/);
    // Back-off: nothing is due until time moves on.
    expect(await jobs.drain(T0)).toBe(0);
    expect(await jobs.drain(new Date(T0.getTime() + HOUR))).toBe(1);
    expect(await mail.get(id)).toMatchObject({ status: 'queued', attempts: 2 });
    expect(await jobs.drain(new Date(T0.getTime() + 2 * HOUR))).toBe(1);

    const row = (await mail.get(id))!;
    expect(row).toMatchObject({ status: 'failed', attempts: 3, sent_at: null });
    expect(row.last_error).toMatch(/550|No such user here/);
    expect((await jobs.list({ name: 'mail.deliver', status: 'dead' })).total).toBe(1);
    expect(server.messages).toHaveLength(0);
  });

  it('delivers on a later attempt once a down SMTP server is back', async () => {
    // Find a free port, then leave it closed: the server is "down".
    const probe = await startSmtpServer();
    const port = probe.port;
    await probe.close();
    const { jobs, mail } = setup(`smtp://127.0.0.1:${port}`, 5);
    const id = await mail.send({ to: 'jiro@example.jp', subject: '再送テスト', text: '届きましたか' });

    expect(await jobs.drain(T0)).toBe(1);
    const failed = (await mail.get(id))!;
    expect(failed).toMatchObject({ status: 'queued', attempts: 1 });
    expect(failed.last_error).toMatch(/ECONNREFUSED|connect/i);

    const server = await smtp({ port });
    expect(await jobs.drain(new Date(T0.getTime() + HOUR))).toBe(1);
    expect(await mail.get(id)).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
    const received = await server.waitFor((m) => m.to.includes('jiro@example.jp'));
    expect(received.subject).toBe('再送テスト');
    expect(received.text).toBe('届きましたか');
  });
});
