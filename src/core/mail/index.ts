import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { sql, type Kysely, type Selectable } from 'kysely';
import { z } from 'zod';
import type { Database, Db } from '../db/index.js';
import { isRowId } from '../db/index.js';
import type { MailMessageTable, MailStatus } from '../db/schema.js';
import type { JobDefinition, JobRunner } from '../jobs/index.js';
import type { Logger } from '../log.js';

export type { MailStatus } from '../db/schema.js';
export type MailRow = Selectable<MailMessageTable>;

export interface MailInput {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Free label for the admin list, e.g. 'password-reset'. */
  category?: string;
  /**
   * The body holds a secret (a password-reset link). Staff who read mail cannot see it, and it
   * is wiped from the database as soon as the message has been handed to the SMTP server.
   */
  sensitive?: boolean;
}

/** Invalid mail input; `fields` maps each bad field to a Japanese message for the form. */
export class MailValidationError extends Error {
  constructor(readonly fields: Record<string, string>) {
    super(`メールの内容が正しくありません: ${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join(' / ')}`);
    this.name = 'MailValidationError';
  }
}

export interface MailServiceOptions {
  db: Db;
  log: Logger;
  jobs: JobRunner;
  /** From header, e.g. 'まちまど市 <noreply@city.example.jp>'. */
  from: string;
  /** smtp://user:pass@host:587 or smtps://…; without it mail stays in the outbox for an administrator. */
  smtpUrl?: string;
  /** Delivery attempts before a message is marked 'failed'. */
  maxAttempts: number;
  /** Clock, replaceable in tests. */
  now?: () => Date;
}

export const MAIL_DELIVER_JOB = 'mail.deliver';

/** What a sensitive message's body becomes once it has been delivered. */
export const SENSITIVE_WIPED = '（機密情報を含むため、送信後に本文を消去しました）';

// CR/LF would let a caller add headers (Bcc: …); NUL and other controls have no business there either.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
// One plain address: no display name, no list separators, no spaces.
const SINGLE_ADDRESS = /^[^\s,;<>()"]+$/;

const emailCheck = z.email();

const mailSchema = z.object({
  to: z
    .string({ error: '宛先を入力してください' })
    .min(1, { error: '宛先を入力してください' })
    .refine((v) => !CONTROL_CHARS.test(v), { error: '宛先に改行や制御文字は使用できません', abort: true })
    .refine((v) => SINGLE_ADDRESS.test(v), { error: '宛先には1件のメールアドレスだけを指定してください', abort: true })
    .refine((v) => v.length <= 254 && emailCheck.safeParse(v).success, { error: '宛先のメールアドレスの形式が正しくありません' }),
  subject: z
    .string({ error: '件名を入力してください' })
    .min(1, { error: '件名を入力してください' })
    .max(200, { error: '件名は200文字以内で入力してください' })
    .refine((v) => !CONTROL_CHARS.test(v), { error: '件名に改行や制御文字は使用できません' }),
  text: z
    .string({ error: '本文を入力してください' })
    .min(1, { error: '本文を入力してください' })
    .max(100_000, { error: '本文が長すぎます（100,000文字以内）' }),
  html: z.string({ error: 'HTML本文は文字列で指定してください' }).max(500_000, { error: 'HTML本文が長すぎます' }).optional(),
  category: z
    .string({ error: '分類は文字列で指定してください' })
    .max(100, { error: '分類は100文字以内で指定してください' })
    .refine((v) => !CONTROL_CHARS.test(v), { error: '分類に改行や制御文字は使用できません' })
    .optional(),
});

/**
 * Checks a message and returns it typed, or throws MailValidationError with Japanese messages.
 * @example validateMail({ to: 'a@example.jp', subject: '件名', text: '本文' })
 */
export function validateMail(input: unknown): MailInput {
  const parsed = mailSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fields: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[0] ?? '_');
    fields[key] ??= issue.message;
  }
  throw new MailValidationError(fields);
}

/**
 * The single way the platform sends e-mail: messages are stored first, then delivered by the
 * 'mail.deliver' job with retries, so a slow or down SMTP server never blocks a request.
 * @example
 * const mail = new MailService({ db, log, jobs, from: 'noreply@city.example.jp', smtpUrl: cfg.smtpUrl, maxAttempts: 5 })
 * for (const d of mail.jobDefinitions()) jobs.register(d)
 * await mail.send({ to: 'taro@example.jp', subject: 'パスワード再設定', text: '…' })
 */
export class MailService {
  private transporter: nodemailer.Transporter<SMTPTransport.SentMessageInfo> | undefined;
  private readonly now: () => Date;

  constructor(private readonly opts: MailServiceOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * Job types this service needs; the composition root registers them with the runner.
   * @example for (const d of mail.jobDefinitions()) jobs.register(d)
   */
  jobDefinitions(): JobDefinition[] {
    const def: JobDefinition<{ id: number }> = {
      name: MAIL_DELIVER_JOB,
      label: 'メール送信',
      maxAttempts: this.opts.maxAttempts,
      backoffSeconds: (attempt) => Math.min(60 * 2 ** Math.max(0, attempt - 1), 3600),
      timeoutMs: 2 * 60_000,
      handler: async (payload) => {
        await this.deliver(payload.id);
        return { id: payload.id };
      },
    };
    return [def];
  }

  /**
   * Validates and stores a message, and queues its delivery (in `tx` when given, so the mail and
   * the caller's own writes commit together). Without smtpUrl the message goes to the outbox.
   * Throws MailValidationError (nothing stored) on bad input.
   * @example const id = await mail.send({ to: 'hanako@example.jp', subject: '受付完了', text: '…', category: 'form' }, trx)
   */
  async send(input: MailInput, tx?: Kysely<Database>): Promise<number> {
    const msg = validateMail(input);
    const write = async (db: Kysely<Database>) => {
      const row = await db
        .insertInto('mail_messages')
        .values({
          to_address: msg.to,
          subject: msg.subject,
          text_body: msg.text,
          html_body: msg.html ?? null,
          category: msg.category ?? null,
          sensitive: input.sensitive ? 1 : 0,
          status: this.opts.smtpUrl ? 'queued' : 'outbox',
          attempts: 0,
          last_error: null,
          message_id: null,
          created_at: this.now().toISOString(),
          sent_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (this.opts.smtpUrl) await this.opts.jobs.enqueue(MAIL_DELIVER_JOB, { id: row.id }, { maxAttempts: this.opts.maxAttempts }, db);
      return row.id;
    };
    const id = tx ? await write(tx) : await this.opts.db.transaction().execute(write);
    if (!tx && this.opts.smtpUrl) this.opts.jobs.wake();
    this.opts.log.info({ mailId: id, category: msg.category, outbox: !this.opts.smtpUrl }, 'mail queued');
    return id;
  }

  /**
   * Sends one stored message over SMTP. On failure records the error (status 'failed' after the
   * last attempt) and rethrows so the job retries. Already sent messages are left alone.
   * @example await mail.deliver(12)
   */
  async deliver(id: number): Promise<void> {
    const db = this.opts.db;
    const row = await db.selectFrom('mail_messages').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) {
      this.opts.log.warn({ mailId: id }, 'mail to deliver no longer exists');
      return;
    }
    if (row.status === 'sent') return;
    const attempts = row.attempts + 1;
    try {
      if (!this.opts.smtpUrl) throw new Error('SMTP サーバーが設定されていません');
      const info = await this.transport().sendMail({
        from: this.opts.from,
        to: row.to_address,
        subject: row.subject,
        text: row.text_body,
        ...(row.html_body ? { html: row.html_body } : {}),
        // Keeps vacation responders from answering notifications.
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
      await db
        .updateTable('mail_messages')
        .set({
          status: 'sent',
          attempts,
          message_id: info.messageId ?? null,
          sent_at: this.now().toISOString(),
          last_error: null,
          ...(row.sensitive ? { text_body: SENSITIVE_WIPED, html_body: null } : {}),
        })
        .where('id', '=', id)
        .execute();
      this.opts.log.info({ mailId: id, messageId: info.messageId }, 'mail sent');
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const failed = attempts >= this.opts.maxAttempts;
      await db
        .updateTable('mail_messages')
        .set({ attempts, last_error: message.slice(0, 2000), status: failed ? 'failed' : row.status === 'outbox' ? 'outbox' : 'queued' })
        .where('id', '=', id)
        .execute();
      this.opts.log.warn({ mailId: id, attempts, err: e }, failed ? 'mail delivery failed for the last time' : 'mail delivery failed; will retry');
      throw e;
    }
  }

  /**
   * Messages newest first; `q` matches address or subject (case-insensitive, substring).
   * @example const { rows, total } = await mail.list({ status: 'failed', q: 'example.jp' })
   */
  async list(filter: { status?: MailStatus; q?: string; limit?: number; offset?: number } = {}): Promise<{ rows: MailRow[]; total: number }> {
    let q = this.opts.db.selectFrom('mail_messages');
    if (filter.status) q = q.where('status', '=', filter.status);
    const term = filter.q?.trim();
    if (term) {
      const pattern = `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where(sql<boolean>`(lower(to_address) like ${pattern} escape '\\' or lower(subject) like ${pattern} escape '\\')`);
    }
    const limit = Math.min(Math.max(1, filter.limit ?? 50), 500);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('id', 'desc').limit(limit).offset(Math.max(0, filter.offset ?? 0)).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  /** One message by id. @example const m = await mail.get(12) */
  async get(id: number): Promise<MailRow | undefined> {
    if (!isRowId(id)) return undefined;
    return this.opts.db.selectFrom('mail_messages').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Closes the SMTP transport (idle pooled connections). @example mail.close() */
  close(): void {
    this.transporter?.close();
    this.transporter = undefined;
  }

  private transport(): nodemailer.Transporter<SMTPTransport.SentMessageInfo> {
    this.transporter ??= nodemailer.createTransport(this.opts.smtpUrl);
    return this.transporter;
  }
}
