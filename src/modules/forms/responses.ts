import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditService } from '../../core/audit/index.js';
import type { Database, Db } from '../../core/db/index.js';
import { isRowId, isUniqueViolation, nowIso, parseJson } from '../../core/db/index.js';
import type { Logger } from '../../core/log.js';
import type { JobRunner } from '../../core/jobs/index.js';
import { validateMail, type MailInput, type MailService } from '../../core/mail/index.js';
import { actorRef } from '../../core/organizations/index.js';
import { formatWhen } from '../../core/ui/view.js';
import type { FormResponseTable, ResponseStatus } from './schema.js';
import type { Form, FormsMeta } from './service.js';
import type { Answer, Question, UploadedFile } from './questions.js';
import { notificationText, renderTemplate, type TemplateContext } from './mail.js';
import { nextReceiptNumber, normalizeReceiptInput } from './receipt.js';

export const RESPONSE_STATUS_LABELS: Record<ResponseStatus, string> = { new: '未対応', in_progress: '対応中', done: '完了' };

export interface ResponseSummary {
  id: number;
  receiptNumber: string;
  status: ResponseStatus;
  submittedAt: string;
  memo: string;
  /** The first one-line answer (usually the name), for the list. */
  preview: string;
}

export interface ResponseDetail extends ResponseSummary {
  formId: number;
  respondentEmail: string | null;
  answers: Array<{ questionId: number; label: string; value: string; detail: Record<string, unknown> }>;
  files: Array<{ id: number; questionId: number; filename: string; mime: string; size: number; sha256: string }>;
  replyMailId: number | null;
  notifyMailIds: number[];
  updatedAt: string;
}

export interface ResponseFilter {
  /** YYYY-MM-DD, from the start of that day in JST. */
  from?: string;
  /** YYYY-MM-DD, to the end of that day in JST. */
  to?: string;
  status?: ResponseStatus;
  /** Reception number, or text in any answer or the memo. */
  q?: string;
}

export type SubmitResult =
  | { kind: 'created' | 'duplicate'; responseId: number; receiptNumber: string }
  | { kind: 'closed' }
  | { kind: 'files-expired' };

export interface SubmitContext {
  /** The confirmation screen's one-time key (a double click or reload sends it again). */
  submissionKey: string;
  ip: string | null;
  userAgent: string | null;
  now?: Date;
  /** For the link in the staff notification. */
  baseUrl: string;
  respondentUserId?: number | null;
}

const dayStart = (d: string) => (/^\d{4}-\d{2}-\d{2}$/.test(d) ? new Date(`${d}T00:00:00+09:00`) : null);

function likePattern(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A file waiting on the confirmation screen is forgotten after this long. */
export const UPLOAD_TTL_MS = 24 * 3600_000;

/**
 * Responses (C-3-15): the one transaction that stores a response with its answers, files,
 * reception number and mails (item 8: all or nothing), and the staff side — list, filter,
 * detail, status and memo, deletion, files, export rows. Views and exports of personal data are
 * audited by the caller through `auditAccess`.
 */
export class ResponseService {
  constructor(private readonly deps: { db: Db; audit: AuditService; mail: MailService; log: Logger; jobs?: JobRunner }) {}

  /** Stores an upload until the response is sent; returns the token the confirmation screen carries. */
  async storeUpload(formId: number, questionId: number, file: { filename: string; mime: string; data: Buffer }, now = new Date()): Promise<UploadedFile> {
    const token = randomBytes(18).toString('base64url');
    const filename = cleanFilename(file.filename);
    await this.deps.db
      .insertInto('form_files')
      .values({ form_id: formId, question_id: questionId, response_id: null, upload_token: token, filename, mime: file.mime, size: file.data.length, sha256: createHash('sha256').update(file.data).digest('hex'), data: file.data, created_at: nowIso(now) })
      .execute();
    return { token, questionId, filename, mime: file.mime, size: file.data.length };
  }

  /** Waiting uploads of this form by token (unknown, expired or attached tokens are left out). */
  async uploads(formId: number, tokens: string[], now = new Date()): Promise<Map<string, UploadedFile>> {
    const clean = tokens.filter((t) => /^[A-Za-z0-9_-]{20,40}$/.test(t));
    if (clean.length === 0) return new Map();
    const rows = await this.deps.db
      .selectFrom('form_files')
      .select(['upload_token', 'question_id', 'filename', 'mime', 'size'])
      .where('form_id', '=', formId)
      .where('upload_token', 'in', clean)
      .where('response_id', 'is', null)
      .where('created_at', '>', nowIso(new Date(now.getTime() - UPLOAD_TTL_MS)))
      .execute();
    return new Map(rows.map((r) => [r.upload_token!, { token: r.upload_token!, questionId: r.question_id, filename: r.filename, mime: r.mime, size: Number(r.size) }]));
  }

  /** Removes uploads nobody sent (the 'forms.uploads.purge' job). */
  async purgeUploads(now = new Date()): Promise<number> {
    const res = await this.deps.db.deleteFrom('form_files').where('response_id', 'is', null).where('created_at', '<', nowIso(new Date(now.getTime() - UPLOAD_TTL_MS))).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /**
   * Stores a response: takes a place under the form's limit, the next reception number, the
   * answers, the waiting files, and queues the automatic reply and staff notifications — in one
   * transaction, so a failure anywhere leaves nothing behind. Sending the same confirmation key
   * twice returns the first response.
   */
  async submit(form: Form, questions: Question[], answers: Answer[], ctx: SubmitContext): Promise<SubmitResult> {
    const now = ctx.now ?? new Date();
    const key = createHash('sha256').update(`${form.id}|${ctx.submissionKey}`).digest('hex');
    const existing = await this.byKey(key);
    if (existing) return { kind: 'duplicate', ...existing };

    const replyTo = replyAddress(form, questions, answers);
    const templateCtx = (receiptNumber: string): TemplateContext => ({ receiptNumber, formTitle: form.title, submittedAt: formatWhen(nowIso(now), 'ja'), answers: answers.map((a) => ({ label: a.label, display: a.display })) });
    // Checked before the transaction with a stand-in number, so a bad address only skips its mail.
    const canMail = (m: Omit<MailInput, 'text'> & { text: string }) => {
      try {
        validateMail(m);
        return true;
      } catch (e) {
        this.deps.log.warn({ formId: form.id, err: e }, 'form mail skipped: invalid');
        return false;
      }
    };
    const probe = templateCtx('0000-000000-A');
    const sendReply = form.replyEnabled && replyTo !== null && canMail({ to: replyTo, subject: renderTemplate(form.replySubject, probe, { subject: true }), text: renderTemplate(form.replyBody, probe) });
    const notifyTo = form.notifyEmails.filter((to) => canMail({ to, subject: 'x', text: 'x' }));
    const fileTokens = answers.map((a) => a.detail.token).filter((t): t is string => typeof t === 'string');

    try {
      const result = await this.deps.db.transaction().execute(async (tx) => {
        const slot = await tx
          .updateTable('forms')
          .set({ response_count: sql<number>`response_count + 1` })
          .where('id', '=', form.id)
          .where('state', 'in', ['open', 'scheduled'])
          .where((eb) => eb.or([eb('response_limit', 'is', null), eb('response_count', '<', eb.ref('response_limit'))]))
          .executeTakeFirst();
        if (Number(slot.numUpdatedRows) !== 1) return { kind: 'closed' } as const;
        const receiptNumber = await nextReceiptNumber(tx, now);
        const at = nowIso(now);
        const row = await tx
          .insertInto('form_responses')
          .values({
            form_id: form.id,
            receipt_number: receiptNumber,
            submission_key: key,
            status: 'new',
            memo: '',
            respondent_email: replyTo,
            respondent_user_id: ctx.respondentUserId ?? null,
            ip: ctx.ip,
            user_agent: ctx.userAgent ? ctx.userAgent.slice(0, 512) : null,
            reply_mail_id: null,
            notify_mail_ids: '[]',
            submitted_at: at,
            updated_at: at,
            updated_by: null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        if (answers.length) {
          await tx
            .insertInto('form_answers')
            .values(answers.map((a) => ({ response_id: row.id, question_id: a.questionId, question_label: a.label, value: a.display, detail: JSON.stringify(a.detail) })))
            .execute();
        }
        if (fileTokens.length) {
          const attached = await tx
            .updateTable('form_files')
            .set({ response_id: row.id, upload_token: null })
            .where('form_id', '=', form.id)
            .where('upload_token', 'in', fileTokens)
            .where('response_id', 'is', null)
            .executeTakeFirst();
          if (Number(attached.numUpdatedRows) !== fileTokens.length) throw new FilesExpiredError();
        }
        const mailCtx = templateCtx(receiptNumber);
        let replyMailId: number | null = null;
        if (sendReply && replyTo) {
          // Answers are personal data: the body is hidden from mail readers and wiped once sent.
          replyMailId = await this.deps.mail.send({ to: replyTo, subject: renderTemplate(form.replySubject, mailCtx, { subject: true }), text: renderTemplate(form.replyBody, mailCtx), category: 'forms.reply', sensitive: true }, tx);
        }
        const note = notificationText(mailCtx, `${ctx.baseUrl}/admin/forms/${form.id}/responses/${row.id}`);
        const notifyIds: number[] = [];
        for (const to of notifyTo) notifyIds.push(await this.deps.mail.send({ to, subject: note.subject, text: note.text, category: 'forms.notify', sensitive: true }, tx));
        if (replyMailId !== null || notifyIds.length) await tx.updateTable('form_responses').set({ reply_mail_id: replyMailId, notify_mail_ids: JSON.stringify(notifyIds) }).where('id', '=', row.id).execute();
        // The last place under the limit closes the form for everyone after.
        if (form.responseLimit !== null) {
          const after = await tx.selectFrom('forms').select(['response_count', 'state']).where('id', '=', form.id).executeTakeFirstOrThrow();
          if (Number(after.response_count) >= form.responseLimit && after.state === 'open') {
            await tx.updateTable('forms').set({ state: 'closed', updated_at: at }).where('id', '=', form.id).execute();
            await this.deps.audit.record({ actor: null, organizationId: form.organizationId, userAgent: 'forms.submit', action: 'forms.auto.closed', targetType: 'form', targetId: form.id, summary: `フォーム「${form.title}」の受付を終了しました（回答数が上限の${form.responseLimit}件に達したため）` }, tx);
          }
        }
        return { kind: 'created', responseId: row.id, receiptNumber } as const;
      });
      // Mail queued inside the transaction goes out once it has committed.
      if (result.kind === 'created') this.deps.jobs?.wake();
      return result;
    } catch (e) {
      if (e instanceof FilesExpiredError) return { kind: 'files-expired' };
      if (isUniqueViolation(e)) {
        const again = await this.byKey(key);
        if (again) return { kind: 'duplicate', ...again };
      }
      throw e;
    }
  }

  private async byKey(key: string): Promise<{ responseId: number; receiptNumber: string } | null> {
    const row = await this.deps.db.selectFrom('form_responses').select(['id', 'receipt_number']).where('submission_key', '=', key).executeTakeFirst();
    return row ? { responseId: row.id, receiptNumber: row.receipt_number } : null;
  }

  /** The reception number of a response (for the completion screen). */
  async receiptOf(formId: number, responseId: number): Promise<string | null> {
    if (!isRowId(responseId)) return null;
    const row = await this.deps.db.selectFrom('form_responses').select('receipt_number').where('id', '=', responseId).where('form_id', '=', formId).executeTakeFirst();
    return row?.receipt_number ?? null;
  }

  private filtered(formId: number, filter: ResponseFilter) {
    let q = this.deps.db.selectFrom('form_responses as r').where('r.form_id', '=', formId);
    const from = filter.from ? dayStart(filter.from) : null;
    const to = filter.to ? dayStart(filter.to) : null;
    if (from) q = q.where('r.submitted_at', '>=', nowIso(from));
    if (to) q = q.where('r.submitted_at', '<', nowIso(new Date(to.getTime() + 86_400_000)));
    if (filter.status) q = q.where('r.status', '=', filter.status);
    const term = filter.q?.trim();
    if (term) {
      const receipt = normalizeReceiptInput(term);
      const pattern = likePattern(term);
      const receiptPattern = `%${receipt.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      // An explicit ESCAPE: SQLite has no default escape character for LIKE.
      q = q.where((eb) =>
        eb.or([
          sql<boolean>`r.receipt_number like ${receiptPattern} escape '\\'`,
          sql<boolean>`lower(r.memo) like ${pattern} escape '\\'`,
          eb.exists(eb.selectFrom('form_answers as a').select('a.id').whereRef('a.response_id', '=', 'r.id').where(sql<boolean>`lower(a.value) like ${pattern} escape '\\'`)),
        ]),
      );
    }
    return q;
  }

  /** Responses of a form, newest first, with the filter applied. */
  async list(form: Form, questions: Question[], filter: ResponseFilter, page: { limit: number; offset: number }): Promise<{ rows: ResponseSummary[]; total: number }> {
    const base = this.filtered(form.id, filter);
    const [rows, count] = await Promise.all([
      base.selectAll('r').orderBy('r.submitted_at', 'desc').orderBy('r.id', 'desc').limit(page.limit).offset(page.offset).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    const previewQ = questions.find((q) => q.type === 'text') ?? questions.find((q) => q.type !== 'heading' && q.type !== 'file');
    const previews = new Map<number, string>();
    if (previewQ && rows.length) {
      const answers = await this.deps.db.selectFrom('form_answers').select(['response_id', 'value']).where('question_id', '=', previewQ.id).where('response_id', 'in', rows.map((r) => r.id)).execute();
      for (const a of answers) previews.set(a.response_id, a.value);
    }
    return { rows: rows.map((r) => ({ ...summary(r), preview: previews.get(r.id) ?? '' })), total: Number(count.n) };
  }

  /** How many responses match (for the export's audit entry). */
  async count(formId: number, filter: ResponseFilter): Promise<number> {
    return Number((await this.filtered(formId, filter).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  }

  /** One response with its answers and files (without their bytes); null when not of this form. */
  async get(formId: number, responseId: number): Promise<ResponseDetail | null> {
    if (!isRowId(responseId)) return null;
    const r = await this.deps.db.selectFrom('form_responses').selectAll().where('id', '=', responseId).where('form_id', '=', formId).executeTakeFirst();
    if (!r) return null;
    const [answers, files] = await Promise.all([
      this.deps.db.selectFrom('form_answers').selectAll().where('response_id', '=', r.id).orderBy('id').execute(),
      this.deps.db.selectFrom('form_files').select(['id', 'question_id', 'filename', 'mime', 'size', 'sha256']).where('response_id', '=', r.id).orderBy('id').execute(),
    ]);
    return {
      ...summary(r),
      preview: '',
      formId: r.form_id,
      respondentEmail: r.respondent_email,
      answers: answers.map((a) => ({ questionId: a.question_id, label: a.question_label, value: a.value, detail: parseJson<Record<string, unknown>>(a.detail, {}) })),
      files: files.map((f) => ({ id: f.id, questionId: f.question_id, filename: f.filename, mime: f.mime, size: Number(f.size), sha256: f.sha256 })),
      replyMailId: r.reply_mail_id,
      notifyMailIds: parseJson<number[]>(r.notify_mail_ids, []),
      updatedAt: r.updated_at,
    };
  }

  /** A file of a response, with its bytes. */
  async file(responseId: number, fileId: number): Promise<{ filename: string; mime: string; data: Buffer } | null> {
    if (!isRowId(fileId)) return null;
    const f = await this.deps.db.selectFrom('form_files').select(['filename', 'mime', 'data']).where('id', '=', fileId).where('response_id', '=', responseId).executeTakeFirst();
    return f ? { filename: f.filename, mime: f.mime, data: Buffer.from(f.data) } : null;
  }

  /** Sets 未対応 / 対応中 / 完了 (audited). */
  async setStatus(form: Form, response: ResponseDetail, status: ResponseStatus, meta: FormsMeta): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.updateTable('form_responses').set({ status, updated_at: nowIso(), updated_by: meta.actor && meta.actor.id > 0 ? meta.actor.id : null }).where('id', '=', response.id).execute();
      await this.audit(tx, form, response, meta, 'forms.response.status', `回答 ${response.receiptNumber} の状態を「${RESPONSE_STATUS_LABELS[response.status]}」から「${RESPONSE_STATUS_LABELS[status]}」にしました`, { from: response.status, to: status });
    });
  }

  /** Saves the internal memo (audited; the memo itself is kept out of the audit trail). */
  async setMemo(form: Form, response: ResponseDetail, memo: string, meta: FormsMeta): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.updateTable('form_responses').set({ memo, updated_at: nowIso(), updated_by: meta.actor && meta.actor.id > 0 ? meta.actor.id : null }).where('id', '=', response.id).execute();
      await this.audit(tx, form, response, meta, 'forms.response.memo', `回答 ${response.receiptNumber} の対応メモを更新しました（${Array.from(memo).length}文字）`);
    });
  }

  /** Deletes a response with its answers and files (audited, with what was deleted but not its content). */
  async delete(form: Form, response: ResponseDetail, meta: FormsMeta): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('form_responses').where('id', '=', response.id).execute();
      await this.audit(tx, form, response, meta, 'forms.response.delete', `回答 ${response.receiptNumber}（${formatWhen(response.submittedAt, 'ja')}受付）を削除しました`, { answers: response.answers.length, files: response.files.length });
    });
  }

  /** Records a staff member's view, list or export of personal data. */
  async auditAccess(form: Form, meta: FormsMeta, action: 'forms.response.view' | 'forms.responses.list' | 'forms.responses.export' | 'forms.response.file', summaryText: string, details?: unknown, responseId?: number): Promise<void> {
    await this.deps.audit.record({
      actor: meta.actor ? actorRef(meta.actor) : null,
      organizationId: form.organizationId,
      ip: meta.ip ?? null,
      userAgent: meta.userAgent ?? null,
      action,
      targetType: responseId ? 'form_response' : 'form',
      targetId: responseId ?? form.id,
      summary: summaryText,
      details,
    });
  }

  private async audit(tx: Kysely<Database>, form: Form, response: ResponseSummary, meta: FormsMeta, action: string, summaryText: string, details?: unknown): Promise<void> {
    await this.deps.audit.record(
      { actor: meta.actor ? actorRef(meta.actor) : null, organizationId: form.organizationId, ip: meta.ip ?? null, userAgent: meta.userAgent ?? null, action, targetType: 'form_response', targetId: response.id, summary: `フォーム「${form.title}」: ${summaryText}`, details: { formId: form.id, receiptNumber: response.receiptNumber, ...(details as object | undefined) } },
      tx,
    );
  }

  /**
   * Every matching response, oldest first, with its answers by question id, read in batches of
   * 500 by id so an export of any size keeps memory flat.
   */
  async *exportRows(formId: number, filter: ResponseFilter, batch = 500): AsyncGenerator<ExportRow> {
    let after = 0;
    for (;;) {
      const rows = await this.filtered(formId, filter).selectAll('r').where('r.id', '>', after).orderBy('r.id').limit(batch).execute();
      if (rows.length === 0) return;
      const answers = await this.deps.db.selectFrom('form_answers').select(['response_id', 'question_id', 'value', 'detail']).where('response_id', 'in', rows.map((r) => r.id)).execute();
      const byResponse = new Map<number, Map<number, { value: string; detail: string }>>();
      for (const a of answers) {
        let m = byResponse.get(a.response_id);
        if (!m) byResponse.set(a.response_id, (m = new Map()));
        m.set(a.question_id, { value: a.value, detail: a.detail });
      }
      for (const r of rows) yield { ...summary(r), answers: byResponse.get(r.id) ?? new Map() };
      after = rows[rows.length - 1]!.id;
      if (rows.length < batch) return;
    }
  }
}

export interface ExportRow extends Omit<ResponseSummary, 'preview'> {
  answers: Map<number, { value: string; detail: string }>;
}

class FilesExpiredError extends Error {}

function summary(r: Selectable<FormResponseTable>): Omit<ResponseSummary, 'preview'> {
  return { id: r.id, receiptNumber: r.receipt_number, status: r.status, submittedAt: r.submitted_at, memo: r.memo };
}

/** The address the automatic reply goes to: the chosen e-mail question's answer, else the first one. */
function replyAddress(form: Form, questions: Question[], answers: Answer[]): string | null {
  const emailQs = questions.filter((q) => q.type === 'email');
  const q = emailQs.find((x) => x.id === form.replyQuestionId) ?? emailQs[0];
  if (!q) return null;
  const a = answers.find((x) => x.questionId === q.id);
  return typeof a?.detail.email === 'string' ? a.detail.email : null;
}

/** A stored file name: no path, no control characters, at most 120 characters. */
export function cleanFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base.replace(/[\u0000-\u001f\u007f]/g, '').replace(/["<>|:*?]/g, '_').trim();
  return Array.from(cleaned || 'file').slice(-120).join('');
}
