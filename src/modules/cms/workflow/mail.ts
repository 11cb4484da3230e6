import type { Kysely } from 'kysely';
import type { Database } from '../../../core/db/index.js';
import type { MailService } from '../../../core/mail/index.js';
import { formatWhen } from '../../../core/ui/view.js';

/**
 * The workflow's notification mails, in Japanese. Titles and names come from staff input, so
 * everything that goes into the subject is flattened to one line first: a CR/LF can never start
 * a header of its own (the mail service would refuse the message, and the request with it).
 */

const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]+/g;

/** One line, no control characters, at most `max` characters. */
export function oneLine(s: string, max = 120): string {
  const flat = s.replace(CONTROL, ' ').replace(/\s{2,}/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export interface MailPage {
  title: string;
  path: string;
  siteName: string;
}

export interface Recipient {
  email: string | null;
  displayName: string;
}

const FOOTER = ['', '――', 'このメールは まちまど（ページ管理）から自動で送信しています。返信はできません。'];

async function send(mail: MailService, tx: Kysely<Database>, to: Recipient, subject: string, lines: string[]): Promise<void> {
  if (!to.email) return; // staff without an address still see everything in the inbox
  await mail.send({ to: to.email, subject: oneLine(subject, 180), text: [`${oneLine(to.displayName, 60)} 様`, '', ...lines, ...FOOTER].join('\n'), category: 'cms-workflow' }, tx);
}

const pageLines = (page: MailPage) => [`ページ: ${oneLine(page.title)}`, `サイト: ${oneLine(page.siteName)}（${page.path}）`];

/** To an approver whose turn it is. */
export function mailApproverTurn(
  mail: MailService,
  tx: Kysely<Database>,
  to: Recipient,
  m: { page: MailPage; requester: string; comment: string | null; level: number; levels: number; publishAt: string | null; overrideReason: string | null; a11yErrors: number; link: string },
): Promise<void> {
  return send(mail, tx, to, `【承認依頼】${oneLine(m.page.title)}`, [
    `次のページの承認依頼が届きました（第${m.level}段／全${m.levels}段）。`,
    '',
    ...pageLines(m.page),
    `依頼者: ${oneLine(m.requester)}`,
    `コメント: ${m.comment ?? 'なし'}`,
    `公開希望日時: ${m.publishAt ? formatWhen(m.publishAt) : '承認後すぐに公開'}`,
    ...(m.a11yErrors ? [`アクセシビリティ: エラー ${m.a11yErrors} 件があるまま依頼されています（理由: ${m.overrideReason ?? ''}）`] : []),
    '',
    '内容を確認し、承認または差し戻してください。',
    m.link,
  ]);
}

/** To the requester: every level approved, and the page is public now or will be at the time. */
export function mailApproved(mail: MailService, tx: Kysely<Database>, to: Recipient, m: { page: MailPage; approver: string; publishedUrl: string | null; publishAt: string | null; link: string }): Promise<void> {
  return send(mail, tx, to, m.publishAt ? `【承認】${oneLine(m.page.title)}` : `【承認・公開】${oneLine(m.page.title)}`, [
    m.publishAt ? `依頼したページが承認されました。${formatWhen(m.publishAt)} に公開されます。` : '依頼したページが承認され、公開されました。',
    '',
    ...pageLines(m.page),
    `最終承認者: ${oneLine(m.approver)}`,
    ...(m.publishedUrl ? [`公開ページ: ${m.publishedUrl}`] : []),
    '',
    `依頼の詳細: ${m.link}`,
  ]);
}

/** To the requester: the approved page went public at its scheduled time. */
export function mailPublished(mail: MailService, tx: Kysely<Database>, to: Recipient, m: { page: MailPage; publishedUrl: string; link: string }): Promise<void> {
  return send(mail, tx, to, `【公開】${oneLine(m.page.title)}`, ['承認済みのページが予約どおり公開されました。', '', ...pageLines(m.page), `公開ページ: ${m.publishedUrl}`, '', `依頼の詳細: ${m.link}`]);
}

/** To the requester: sent back, with the approver's reason. */
export function mailSentBack(mail: MailService, tx: Kysely<Database>, to: Recipient, m: { page: MailPage; approver: string; reason: string; link: string }): Promise<void> {
  return send(mail, tx, to, `【差し戻し】${oneLine(m.page.title)}`, [
    '依頼したページが差し戻されました。理由を確認し、直してから再度依頼してください。',
    '',
    ...pageLines(m.page),
    `差し戻した人: ${oneLine(m.approver)}`,
    '理由:',
    m.reason,
    '',
    `依頼の詳細: ${m.link}`,
  ]);
}

/** To the requester: the request no longer stands (the page changed or went to the trash). */
export function mailVoid(mail: MailService, tx: Kysely<Database>, to: Recipient, m: { page: MailPage; reason: string; link: string }): Promise<void> {
  return send(mail, tx, to, `【承認依頼の無効】${oneLine(m.page.title)}`, ['依頼したページの承認依頼が無効になりました。', '', ...pageLines(m.page), `理由: ${m.reason}`, '', `依頼の詳細: ${m.link}`]);
}
