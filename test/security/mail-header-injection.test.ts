/**
 * IPA 8. メールヘッダ・インジェクション — addresses are checked at input (user form) and again by
 * MailService.send (one plain address, no control characters in address, subject or category),
 * so the SMTP server never sees an extra recipient or header.
 */
import { expect, it } from 'vitest';
import { describePlatform } from '../helpers/engines.js';
import { HttpClient } from '../helpers/http-client.js';
import { createStaff } from '../helpers/platform.js';
import { MailValidationError } from '../../src/core/mail/index.js';
import { signedIn, tableCounts } from './helpers.js';

const EVIL = 'evil@attacker.example';
const HOSTILE_ADDRESSES = [
  `victim@example.jp\r\nBcc: ${EVIL}`,
  `victim@example.jp\nBcc: ${EVIL}`,
  `victim@example.jp\rCc: ${EVIL}`,
  `victim@example.jp%0d%0aBcc:${EVIL}`,
  `victim@example.jp, ${EVIL}`,
  `victim@example.jp;${EVIL}`,
  `"Victim" <victim@example.jp>, <${EVIL}>`,
  `victim@example.jp\u0000${EVIL}`,
  `victim@example.jp\tBcc:${EVIL}`,
];

describePlatform('security: mail header injection', { smtp: true, env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000' } }, (tp) => {
  const noEvilMail = () => {
    for (const m of tp().smtp!.messages) {
      expect(m.to, m.raw.slice(0, 300)).not.toContain(EVIL);
      expect(m.raw, m.raw.slice(0, 300)).not.toContain(EVIL);
      expect(Object.keys(m.headers)).not.toContain('bcc');
      expect(m.to).toHaveLength(1);
    }
  };

  it('the user form refuses an address with CR/LF or several recipients, with a Japanese field error', async () => {
    const p = tp().platform;
    const { client } = await signedIn(tp().baseUrl, p, { roles: ['system_admin'] });
    const existing = await createStaff(p, { roles: ['editor'], email: 'kept@example.jp' });
    for (const [i, email] of HOSTILE_ADDRESSES.entries()) {
      await client.get('/admin/users/new');
      const res = await client.post('/admin/users', { loginId: `mailinj${i}`, displayName: 'メール', email, roles: 'editor' });
      expect(res.status, JSON.stringify(email)).toBe(422);
      expect(res.text).toContain('メールアドレスの形式が正しくありません');
      expect(res.text).toContain('aria-invalid="true"');
      expect(await p.db.selectFrom('users').select('id').where('login_id', '=', `mailinj${i}`).execute()).toEqual([]);
      await client.get(`/admin/users/${existing.id}`);
      const edit = await client.post(`/admin/users/${existing.id}`, { loginId: existing.loginId, displayName: 'メール', email, roles: 'editor' });
      expect(edit.status, JSON.stringify(email)).toBe(422);
      expect(edit.text).toContain('メールアドレスの形式が正しくありません');
    }
    const row = await p.db.selectFrom('users').select('email').where('id', '=', existing.id).executeTakeFirstOrThrow();
    expect(row.email).toBe('kept@example.jp');
  });

  it('a password reset for an account whose stored address was tampered with sends nothing and answers as usual', async () => {
    const p = tp().platform;
    const control = await createStaff(p, { roles: ['editor'], email: 'control@example.jp' });
    const before = await tableCounts(p);
    const tampered: string[] = [];
    for (const [i, email] of HOSTILE_ADDRESSES.slice(0, 3).entries()) {
      const staff = await createStaff(p, { roles: ['editor'], loginId: `tampered${i}` });
      // Legacy import or direct SQL: the form would never have stored this.
      await p.db.updateTable('users').set({ email }).where('id', '=', staff.id).execute();
      tampered.push(staff.loginId);
    }
    const client = new HttpClient(tp().baseUrl);
    const answers: Array<{ status: number; notice: boolean }> = [];
    for (const loginId of [...tampered, 'nobody-at-all', control.loginId]) {
      await client.get('/admin/password-reset');
      const res = await client.post('/admin/password-reset', { loginId });
      answers.push({ status: res.status, notice: res.text.includes('再設定用のリンクを送信しました') });
    }
    // Same answer for every ID: no 500, no hint that these accounts exist.
    expect(new Set(answers.map((a) => JSON.stringify(a))).size, JSON.stringify(answers)).toBe(1);
    expect(answers[0]).toEqual({ status: 200, notice: true });
    await p.jobs.drain();
    await tp().smtp!.waitFor((m) => m.to.includes('control@example.jp'));
    noEvilMail();
    const stored = await p.db.selectFrom('mail_messages').select(['to_address']).execute();
    expect(stored.some((m) => m.to_address.includes(EVIL))).toBe(false);
    expect((await tableCounts(p)).mail_messages).toBe(before.mail_messages + 1);
  });

  it('MailService.send refuses CR/LF and lists in address, subject and category, storing nothing', async () => {
    const p = tp().platform;
    const before = (await tableCounts(p)).mail_messages;
    const cases: Array<[Record<string, string>, string]> = [
      ...HOSTILE_ADDRESSES.map((to): [Record<string, string>, string] => [{ to, subject: '件名', text: '本文' }, 'to']),
      [{ to: 'ok@example.jp', subject: `件名\r\nBcc: ${EVIL}`, text: '本文' }, 'subject'],
      [{ to: 'ok@example.jp', subject: `件名\nBcc: ${EVIL}`, text: '本文' }, 'subject'],
      [{ to: 'ok@example.jp', subject: `件名\r\n\r\n偽の本文`, text: '本文' }, 'subject'],
      [{ to: 'ok@example.jp', subject: '件名', text: '本文', category: `x\r\nBcc: ${EVIL}` }, 'category'],
    ];
    for (const [input, field] of cases) {
      const err = await p.mail.send(input as never).catch((e: unknown) => e);
      expect(err, JSON.stringify(input)).toBeInstanceOf(MailValidationError);
      expect((err as MailValidationError).fields[field], JSON.stringify(input)).toMatch(/[ぁ-んァ-ン一-龥]/);
    }
    expect((await tableCounts(p)).mail_messages).toBe(before);
  });

  it('text that merely looks like a header stays inside the subject and body of one message', async () => {
    const p = tp().platform;
    await p.mail.send({ to: 'single@example.jp', subject: `お知らせ Bcc: ${EVIL.replace('@', ' at ')}`, text: `本文\r\nBcc: ${EVIL}\r\n\r\n.\r\nRCPT TO:<${EVIL}>\r\n` });
    await p.jobs.drain();
    const m = await tp().smtp!.waitFor((x) => x.to.includes('single@example.jp'));
    expect(m.to).toEqual(['single@example.jp']);
    expect(Object.keys(m.headers)).not.toContain('bcc');
    expect(m.subject).toContain('お知らせ Bcc:');
    // The body text arrived as body (encoded), not as a header or SMTP command.
    expect(m.text).toContain(`Bcc: ${EVIL}`);
    expect(tp().smtp!.messages.some((x) => x.to.includes(EVIL))).toBe(false);
  });
});
