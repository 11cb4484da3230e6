import type { Kysely, Selectable } from 'kysely';
import type { AuditService } from '../../core/audit/index.js';
import type { Database, Db } from '../../core/db/index.js';
import { isRowId, isUniqueViolation, nowIso } from '../../core/db/index.js';
import { InputError, NotFoundError } from '../../core/errors.js';
import type { OrganizationService } from '../../core/organizations/index.js';
import { actorRef } from '../../core/organizations/index.js';
import type { Actor } from '../../core/permissions/index.js';
import { parseInstant } from '../maintenance/service.js';
import type { FormKind, FormState, FormTable } from './schema.js';
import { answers, parseQuestionInput, toQuestion, type Question, type QuestionInput } from './questions.js';
import { checkTemplate, DEFAULT_REPLY_BODY, DEFAULT_REPLY_SUBJECT } from './mail.js';
import { stripControls } from './normalize.js';
import { z } from 'zod';

export interface Form {
  id: number;
  organizationId: number | null;
  kind: FormKind;
  audience: 'public' | 'residents';
  slug: string;
  title: string;
  description: string;
  state: FormState;
  opensAt: string | null;
  closesAt: string | null;
  removesAt: string | null;
  responseLimit: number | null;
  responseCount: number;
  completionMessage: string;
  minFillSeconds: number;
  replyEnabled: boolean;
  replySubject: string;
  replyBody: string;
  replyQuestionId: number | null;
  notifyEmails: string[];
  createdAt: string;
  updatedAt: string;
}

export function toForm(r: Selectable<FormTable>): Form {
  return {
    id: r.id,
    organizationId: r.organization_id,
    kind: r.kind,
    audience: r.audience,
    slug: r.slug,
    title: r.title,
    description: r.description,
    state: r.state,
    opensAt: r.opens_at,
    closesAt: r.closes_at,
    removesAt: r.removes_at,
    responseLimit: r.response_limit,
    responseCount: Number(r.response_count),
    completionMessage: r.completion_message,
    minFillSeconds: r.min_fill_seconds,
    replyEnabled: r.reply_enabled === 1,
    replySubject: r.reply_subject,
    replyBody: r.reply_body,
    replyQuestionId: r.reply_question_id,
    notifyEmails: r.notify_emails.split('\n').map((s) => s.trim()).filter(Boolean),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** What the public sees of a form at an instant. */
export type PublicState = 'hidden' | 'upcoming' | 'open' | 'closed';

/**
 * The form's state for residents at `now`. The stored state is moved by staff and by the
 * schedule job; the dates are checked here as well, so a job that runs a minute late never lets a
 * closed form take an answer.
 */
export function publicState(form: Form, now: Date = new Date()): PublicState {
  const t = now.toISOString();
  if (form.state === 'draft' || form.state === 'removed') return 'hidden';
  if (form.removesAt && form.removesAt <= t) return 'hidden';
  if (form.state === 'closed') return 'closed';
  if (form.closesAt && form.closesAt <= t) return 'closed';
  if (form.responseLimit !== null && form.responseCount >= form.responseLimit) return 'closed';
  // Once open (by staff or the job) it stays open; a late job never keeps a due form shut.
  if (form.state === 'scheduled' && form.opensAt && form.opensAt > t) return 'upcoming';
  return 'open';
}

export const FORM_STATE_LABELS: Record<FormState, string> = { draft: '下書き', scheduled: '公開予約', open: '受付中', closed: '受付終了', removed: '公開終了（削除）' };
export const FORM_KIND_LABELS: Record<FormKind, string> = { form: '申込み・届出フォーム', survey: 'アンケート', inquiry: '問い合わせ' };

export interface FormsMeta {
  actor: Actor | null;
  ip?: string | null;
  userAgent?: string | null;
}

/** Settings of a form as the builder's screens send them (strings from a form). */
export interface FormSettingsInput {
  title: string;
  slug: string;
  kind?: string;
  organizationId?: string;
  description?: string;
  opensAt?: string;
  closesAt?: string;
  removesAt?: string;
  responseLimit?: string;
  completionMessage?: string;
  minFillSeconds?: string;
  replyEnabled?: string;
  replySubject?: string;
  replyBody?: string;
  replyQuestionId?: string;
  notifyEmails?: string;
}

/** Top-level names under /forms that are not form addresses. */
const RESERVED_SLUGS = new Set(['new', 'admin', 'assets', 'postal']);
const SINGLE_ADDRESS = /^[^\s,;<>()"\\]+$/;
const emailCheck = z.email();

const count = (s: string) => Array.from(s).length;

export type FormChange = { formId: number; kind: 'settings' | 'questions' | 'state' };

/**
 * Forms and their questions (C-3-10, C-3-11, C-3-13): create and edit, publish with a window
 * (C-3-12), close, remove. Staff act only on forms of their organisations; every change is
 * audited in its own transaction, and listeners (the CMS render cache) hear of it afterwards.
 */
export class FormService {
  private readonly listeners: Array<(change: FormChange) => void | Promise<void>> = [];

  constructor(private readonly deps: { db: Db; audit: AuditService; organizations: OrganizationService }) {}

  /** Called after every committed change that alters what the public sees of a form. */
  onChange(fn: (change: FormChange) => void | Promise<void>): void {
    this.listeners.push(fn);
  }

  private async announce(change: FormChange): Promise<void> {
    for (const l of this.listeners) await l(change);
  }

  /** May the actor see and act on this form? Forms without an organisation need a prefecture-wide role. */
  async mayAccess(actor: Actor, form: Pick<Form, 'organizationId'>): Promise<boolean> {
    return form.organizationId === null ? actor.allOrganizations : this.deps.organizations.canAccess(actor, form.organizationId);
  }

  /** Forms the actor may see, newest first. */
  async listFor(actor: Actor): Promise<Form[]> {
    let q = this.deps.db.selectFrom('forms').selectAll().orderBy('id', 'desc');
    if (!actor.allOrganizations) {
      const ids = (await this.deps.organizations.visibleTo(actor)).map((o) => o.id);
      if (ids.length === 0) return [];
      q = q.where('organization_id', 'in', ids);
    }
    return (await q.execute()).map(toForm);
  }

  /** Every form not removed, for choosing one to embed. */
  async embeddable(actor: Actor): Promise<Form[]> {
    return (await this.listFor(actor)).filter((f) => f.state !== 'removed');
  }

  async get(id: number): Promise<Form | null> {
    if (!isRowId(id)) return null;
    const row = await this.deps.db.selectFrom('forms').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toForm(row) : null;
  }

  /** The form if it exists and the actor may touch it; otherwise null (the route answers 404). */
  async getFor(actor: Actor, id: number): Promise<Form | null> {
    const f = await this.get(id);
    return f && (await this.mayAccess(actor, f)) ? f : null;
  }

  async bySlug(slug: string): Promise<Form | null> {
    if (!/^[a-z0-9][a-z0-9-]{0,59}$/.test(slug)) return null;
    const row = await this.deps.db.selectFrom('forms').selectAll().where('slug', '=', slug).executeTakeFirst();
    return row ? toForm(row) : null;
  }

  /** Questions in order; retired ones only when asked (exports of old responses). */
  async questions(formId: number, opts: { includeDeleted?: boolean } = {}): Promise<Question[]> {
    let q = this.deps.db.selectFrom('form_questions').selectAll().where('form_id', '=', formId);
    if (!opts.includeDeleted) q = q.where('deleted_at', 'is', null);
    return (await q.orderBy('position').orderBy('id').execute()).map(toQuestion);
  }

  private async parseSettings(actor: Actor, input: FormSettingsInput, current: Form | null, questions: Question[]) {
    const errors: Record<string, string> = {};
    const title = stripControls(input.title ?? '', false).trim();
    if (!title) errors.title = 'フォームの名前を入力してください。';
    else if (count(title) > 100) errors.title = 'フォームの名前は100文字以内で入力してください。';
    const slug = (input.slug ?? '').trim();
    if (!/^[a-z0-9][a-z0-9-]{1,59}$/.test(slug)) errors.slug = 'URLの名前は半角英小文字・数字・ハイフンで2～60文字にしてください（例: kominkan-moushikomi）。';
    else if (RESERVED_SLUGS.has(slug)) errors.slug = 'このURLの名前は使えません。別の名前にしてください。';
    const kind = (input.kind ?? current?.kind ?? 'form') as FormKind;
    if (!(kind in FORM_KIND_LABELS)) errors.kind = 'フォームの種類を選んでください。';
    let organizationId: number | null = current?.organizationId ?? actor.organizationId;
    if (input.organizationId !== undefined) {
      const id = Number(input.organizationId);
      organizationId = input.organizationId === '' ? null : id;
      if (organizationId === null ? !actor.allOrganizations : !Number.isInteger(id) || !(await this.deps.organizations.canAccess(actor, id))) {
        errors.organizationId = '担当の組織を、あなたが管理できる組織から選んでください。';
      }
    }
    const description = stripControls(input.description ?? current?.description ?? '', true).trim();
    if (count(description) > 5000) errors.description = '説明文は5000文字以内で入力してください。';
    const when = (key: 'opensAt' | 'closesAt' | 'removesAt', label: string): string | null => {
      const raw = input[key];
      if (raw === undefined) return current?.[key] ?? null;
      if (!raw.trim()) return null;
      const d = parseInstant(raw);
      if (!d) {
        errors[key] = `${label}を「2026-04-01T09:00」の形式で入力してください。`;
        return null;
      }
      return nowIso(d);
    };
    const opensAt = when('opensAt', '受付開始日時');
    const closesAt = when('closesAt', '受付終了日時');
    const removesAt = when('removesAt', '公開終了（削除）日時');
    if (opensAt && closesAt && closesAt <= opensAt) errors.closesAt = '受付終了日時は受付開始日時より後にしてください。';
    if (closesAt && removesAt && removesAt < closesAt) errors.removesAt = '公開終了（削除）日時は受付終了日時以降にしてください。';
    if (opensAt && removesAt && !closesAt && removesAt <= opensAt) errors.removesAt = '公開終了（削除）日時は受付開始日時より後にしてください。';
    let responseLimit = current?.responseLimit ?? null;
    if (input.responseLimit !== undefined) {
      const s = input.responseLimit.trim();
      const n = Number(s);
      responseLimit = s === '' ? null : n;
      if (s !== '' && (!Number.isInteger(n) || n < 1 || n > 1_000_000)) errors.responseLimit = '回答数の上限は1から1000000までの整数で入力してください（上限なしは空欄）。';
    }
    let minFillSeconds = current?.minFillSeconds ?? 3;
    if (input.minFillSeconds !== undefined && input.minFillSeconds.trim() !== '') {
      const n = Number(input.minFillSeconds.trim());
      if (!Number.isInteger(n) || n < 0 || n > 600) errors.minFillSeconds = '最短の入力時間は0から600までの秒数で入力してください。';
      else minFillSeconds = n;
    }
    const completionMessage = stripControls(input.completionMessage ?? current?.completionMessage ?? '', true).trim();
    if (count(completionMessage) > 2000) errors.completionMessage = '完了画面の文章は2000文字以内で入力してください。';
    const replyEnabled = input.replyEnabled !== undefined ? input.replyEnabled === '1' : (current?.replyEnabled ?? false);
    const replySubject = stripControls(input.replySubject ?? current?.replySubject ?? DEFAULT_REPLY_SUBJECT, false).trim();
    const replyBody = stripControls(input.replyBody ?? current?.replyBody ?? DEFAULT_REPLY_BODY, true).trim();
    const labels = questions.filter(answers).map((q) => q.label);
    if (!replySubject && replyEnabled) errors.replySubject = '自動返信メールの件名を入力してください。';
    else if (count(replySubject) > 150) errors.replySubject = '件名は150文字以内で入力してください。';
    else {
      const bad = checkTemplate(replySubject, labels);
      if (bad) errors.replySubject = bad;
    }
    if (!replyBody && replyEnabled) errors.replyBody = '自動返信メールの本文を入力してください。';
    else if (count(replyBody) > 10_000) errors.replyBody = '本文は10000文字以内で入力してください。';
    else {
      const bad = checkTemplate(replyBody, labels);
      if (bad) errors.replyBody = bad;
    }
    let replyQuestionId = current?.replyQuestionId ?? null;
    if (input.replyQuestionId !== undefined) {
      const id = Number(input.replyQuestionId);
      replyQuestionId = input.replyQuestionId === '' ? null : id;
      if (replyQuestionId !== null && !questions.some((q) => q.id === id && q.type === 'email')) errors.replyQuestionId = '返信先には、メールアドレスの質問を選んでください。';
    }
    if (replyEnabled && !questions.some((q) => q.type === 'email')) errors.replyEnabled = '自動返信メールを送るには、メールアドレスの質問を追加してください。';
    const notifyLines = (input.notifyEmails ?? current?.notifyEmails.join('\n') ?? '').split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
    if (notifyLines.length > 10) errors.notifyEmails = '通知先は10件までにしてください。';
    const badAddress = notifyLines.find((a) => /[\u0000-\u001f\u007f]/.test(a) || !SINGLE_ADDRESS.test(a) || a.length > 254 || !emailCheck.safeParse(a).success);
    if (badAddress) errors.notifyEmails = `通知先のメールアドレスの形式が正しくありません: ${badAddress.slice(0, 60)}（1行に1件ずつ入力してください）`;
    if (Object.keys(errors).length) throw new InputError(errors);
    return { title, slug, kind, organizationId, description, opensAt, closesAt, removesAt, responseLimit, minFillSeconds, completionMessage, replyEnabled, replySubject, replyBody, replyQuestionId, notifyEmails: notifyLines };
  }

  /**
   * Creates a draft form. A staff member's form belongs to their organisation unless they choose
   * another they manage.
   * @example const id = await forms.create(actor, { title: '公民館の利用申込み', slug: 'kominkan' }, meta)
   */
  async create(actor: Actor, input: FormSettingsInput, meta: FormsMeta): Promise<number> {
    const d = await this.parseSettings(actor, input, null, []);
    const at = nowIso();
    try {
      return await this.deps.db.transaction().execute(async (tx) => {
        const row = await tx
          .insertInto('forms')
          .values({
            organization_id: d.organizationId,
            kind: d.kind,
            audience: 'public',
            slug: d.slug,
            title: d.title,
            description: d.description,
            state: 'draft',
            opens_at: d.opensAt,
            closes_at: d.closesAt,
            removes_at: d.removesAt,
            response_limit: d.responseLimit,
            response_count: 0,
            completion_message: d.completionMessage,
            min_fill_seconds: d.minFillSeconds,
            reply_enabled: 0,
            reply_subject: d.replySubject,
            reply_body: d.replyBody,
            reply_question_id: null,
            notify_emails: d.notifyEmails.join('\n'),
            created_by: actor.id > 0 ? actor.id : null,
            updated_by: actor.id > 0 ? actor.id : null,
            created_at: at,
            updated_at: at,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await this.audit(tx, meta, d.organizationId, 'forms.create', row.id, `フォーム「${d.title}」（/forms/${d.slug}）を作成しました`);
        return row.id;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ slug: 'このURLの名前は既に使われています。別の名前にしてください。' });
      throw e;
    }
  }

  /** Saves the settings screen: names, window, limit, completion text, mail templates, notification addresses. */
  async updateSettings(actor: Actor, form: Form, input: FormSettingsInput, meta: FormsMeta): Promise<void> {
    const questions = await this.questions(form.id);
    const d = await this.parseSettings(actor, input, form, questions);
    try {
      await this.deps.db.transaction().execute(async (tx) => {
        await tx
          .updateTable('forms')
          .set({
            organization_id: d.organizationId,
            kind: d.kind,
            slug: d.slug,
            title: d.title,
            description: d.description,
            opens_at: d.opensAt,
            closes_at: d.closesAt,
            removes_at: d.removesAt,
            response_limit: d.responseLimit,
            completion_message: d.completionMessage,
            min_fill_seconds: d.minFillSeconds,
            reply_enabled: d.replyEnabled ? 1 : 0,
            reply_subject: d.replySubject,
            reply_body: d.replyBody,
            reply_question_id: d.replyQuestionId,
            notify_emails: d.notifyEmails.join('\n'),
            updated_by: actor.id > 0 ? actor.id : null,
            updated_at: nowIso(),
          })
          .where('id', '=', form.id)
          .execute();
        const changed = (Object.keys(d) as Array<keyof typeof d>).filter((k) => JSON.stringify(d[k]) !== JSON.stringify((form as unknown as Record<string, unknown>)[k]));
        await this.audit(tx, meta, d.organizationId, 'forms.update', form.id, `フォーム「${d.title}」の設定を変更しました`, { changed });
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new InputError({ slug: 'このURLの名前は既に使われています。別の名前にしてください。' });
      throw e;
    }
    await this.announce({ formId: form.id, kind: 'settings' });
  }

  /**
   * Opens the form to residents: at once, or at its opening time (公開予約). Needs a question that
   * takes an answer, and a closing time still ahead.
   */
  async publish(actor: Actor, form: Form, meta: FormsMeta, now = new Date()): Promise<FormState> {
    const qs = await this.questions(form.id);
    const t = now.toISOString();
    if (!qs.some(answers)) throw new InputError({ _form: '回答を受け付ける質問を1つ以上追加してから公開してください。' });
    if (form.closesAt && form.closesAt <= t) throw new InputError({ _form: '受付終了日時が過ぎています。設定で受付終了日時を変更してから公開してください。' });
    if (form.removesAt && form.removesAt <= t) throw new InputError({ _form: '公開終了日時が過ぎています。設定で日時を変更してから公開してください。' });
    const state: FormState = form.opensAt && form.opensAt > t ? 'scheduled' : 'open';
    await this.setState(form, state, meta, state === 'scheduled' ? 'forms.schedule' : 'forms.publish', state === 'scheduled' ? `フォーム「${form.title}」の公開を予約しました` : `フォーム「${form.title}」を公開しました（受付開始）`);
    return state;
  }

  /** Stops taking answers now; the form says it is closed. */
  async close(actor: Actor, form: Form, meta: FormsMeta): Promise<void> {
    if (form.state !== 'open' && form.state !== 'scheduled') throw new InputError({ _form: '受付中か公開予約中のフォームだけ受付を終了できます。' });
    await this.setState(form, 'closed', meta, 'forms.close', `フォーム「${form.title}」の受付を終了しました`);
  }

  /** Takes answers again after a manual close (the closing time must be ahead, or empty). */
  async reopen(actor: Actor, form: Form, meta: FormsMeta, now = new Date()): Promise<void> {
    if (form.state !== 'closed') throw new InputError({ _form: '受付終了のフォームだけ再開できます。' });
    if (form.closesAt && form.closesAt <= now.toISOString()) throw new InputError({ _form: '受付終了日時が過ぎています。設定で受付終了日時を変更してから再開してください。' });
    if (form.responseLimit !== null && form.responseCount >= form.responseLimit) throw new InputError({ _form: '回答数が上限に達しています。設定で上限を変更してから再開してください。' });
    await this.setState(form, 'open', meta, 'forms.reopen', `フォーム「${form.title}」の受付を再開しました`);
  }

  /** Back to a draft: no longer public (responses are kept). */
  async unpublish(actor: Actor, form: Form, meta: FormsMeta): Promise<void> {
    await this.setState(form, 'draft', meta, 'forms.unpublish', `フォーム「${form.title}」を非公開（下書き）に戻しました`);
  }

  /** Removes the form from the public (its address answers 404; responses are kept for staff). */
  async remove(actor: Actor, form: Form, meta: FormsMeta): Promise<void> {
    await this.setState(form, 'removed', meta, 'forms.remove', `フォーム「${form.title}」の公開を終了しました（削除）`);
  }

  private async setState(form: Form, state: FormState, meta: FormsMeta, action: string, summary: string): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.updateTable('forms').set({ state, updated_at: nowIso(), updated_by: meta.actor && meta.actor.id > 0 ? meta.actor.id : null }).where('id', '=', form.id).execute();
      await this.audit(tx, meta, form.organizationId, action, form.id, summary, { from: form.state, to: state });
    });
    await this.announce({ formId: form.id, kind: 'state' });
  }

  /**
   * The 'forms.schedule' job: opens forms whose time has come, closes those past their closing
   * time or limit, removes those past their removal time (C-3-12). Each change is audited as the
   * system's and clears the caches of pages embedding the form.
   */
  async runSchedule(now = new Date()): Promise<{ opened: number; closed: number; removed: number }> {
    const t = now.toISOString();
    const rows = (await this.deps.db.selectFrom('forms').selectAll().where('state', 'in', ['scheduled', 'open', 'closed']).execute()).map(toForm);
    const out = { opened: 0, closed: 0, removed: 0 };
    const system: FormsMeta = { actor: null, ip: null, userAgent: 'forms.schedule' };
    for (const f of rows) {
      let to: FormState | null = null;
      let summary = '';
      if (f.removesAt && f.removesAt <= t) {
        to = 'removed';
        summary = `フォーム「${f.title}」の公開を終了しました（公開終了日時による自動処理）`;
        out.removed++;
      } else if (f.state !== 'closed' && f.closesAt && f.closesAt <= t) {
        to = 'closed';
        summary = `フォーム「${f.title}」の受付を終了しました（受付終了日時による自動処理）`;
        out.closed++;
      } else if (f.state !== 'closed' && f.responseLimit !== null && f.responseCount >= f.responseLimit) {
        to = 'closed';
        summary = `フォーム「${f.title}」の受付を終了しました（回答数の上限による自動処理）`;
        out.closed++;
      } else if (f.state === 'scheduled' && (!f.opensAt || f.opensAt <= t)) {
        to = 'open';
        summary = `フォーム「${f.title}」の受付を開始しました（受付開始日時による自動処理）`;
        out.opened++;
      }
      if (!to) continue;
      // Only if nobody changed the state meanwhile (another node's run, or staff).
      const changed = await this.deps.db.transaction().execute(async (tx) => {
        const res = await tx.updateTable('forms').set({ state: to, updated_at: t }).where('id', '=', f.id).where('state', '=', f.state).executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) return false;
        await this.audit(tx, system, f.organizationId, `forms.auto.${to}`, f.id, summary, { from: f.state, to, at: t });
        return true;
      });
      if (changed) await this.announce({ formId: f.id, kind: 'state' });
    }
    return out;
  }

  /** Adds a question at the end. */
  async addQuestion(actor: Actor, form: Form, input: QuestionInput, meta: FormsMeta): Promise<number> {
    const existing = await this.questions(form.id);
    const parsed = parseQuestionInput(input, existing);
    if (!parsed.question) throw new InputError(parsed.errors);
    const q = parsed.question;
    const at = nowIso();
    const id = await this.deps.db.transaction().execute(async (tx) => {
      const position = (existing.at(-1)?.position ?? 0) + 1;
      const row = await tx
        .insertInto('form_questions')
        .values({ form_id: form.id, position, type: q.type, label: q.label, help: q.help, required: q.required ? 1 : 0, options: JSON.stringify(q.options), rules: JSON.stringify(q.rules), show_if: q.showIf ? JSON.stringify(q.showIf) : null, deleted_at: null, created_at: at, updated_at: at })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.touch(tx, form.id, actor);
      await this.audit(tx, meta, form.organizationId, 'forms.question.add', form.id, `フォーム「${form.title}」に質問「${q.label}」を追加しました`, { questionId: row.id, type: q.type });
      return row.id;
    });
    await this.announce({ formId: form.id, kind: 'questions' });
    return id;
  }

  /** Changes a question (its type stays). */
  async updateQuestion(actor: Actor, form: Form, questionId: number, input: QuestionInput, meta: FormsMeta): Promise<void> {
    const all = await this.questions(form.id);
    const current = all.find((q) => q.id === questionId);
    if (!current) throw new NotFoundError();
    const parsed = parseQuestionInput({ ...input, type: current.type }, all.filter((q) => q.position < current.position));
    if (!parsed.question) throw new InputError(parsed.errors);
    const q = parsed.question;
    await this.deps.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('form_questions')
        .set({ label: q.label, help: q.help, required: q.required ? 1 : 0, options: JSON.stringify(q.options), rules: JSON.stringify(q.rules), show_if: q.showIf ? JSON.stringify(q.showIf) : null, updated_at: nowIso() })
        .where('id', '=', questionId)
        .execute();
      await this.touch(tx, form.id, actor);
      await this.audit(tx, meta, form.organizationId, 'forms.question.update', form.id, `フォーム「${form.title}」の質問「${q.label}」を変更しました`, { questionId });
    });
    await this.announce({ formId: form.id, kind: 'questions' });
  }

  /**
   * Deletes a question. One that already has answers is retired instead, so old responses and
   * exports keep it. Questions shown on its condition are shown always from now on.
   */
  async deleteQuestion(actor: Actor, form: Form, questionId: number, meta: FormsMeta): Promise<void> {
    const all = await this.questions(form.id);
    const q = all.find((x) => x.id === questionId);
    if (!q) throw new NotFoundError();
    await this.deps.db.transaction().execute(async (tx) => {
      const answered = await tx.selectFrom('form_answers').select('id').where('question_id', '=', questionId).limit(1).executeTakeFirst();
      if (answered) await tx.updateTable('form_questions').set({ deleted_at: nowIso() }).where('id', '=', questionId).execute();
      else await tx.deleteFrom('form_questions').where('id', '=', questionId).execute();
      const dependants = all.filter((x) => x.showIf?.questionId === questionId);
      for (const d of dependants) await tx.updateTable('form_questions').set({ show_if: null }).where('id', '=', d.id).execute();
      if (form.replyQuestionId === questionId) await tx.updateTable('forms').set({ reply_question_id: null }).where('id', '=', form.id).execute();
      await this.touch(tx, form.id, actor);
      await this.audit(tx, meta, form.organizationId, 'forms.question.delete', form.id, `フォーム「${form.title}」の質問「${q.label}」を削除しました`, { questionId, retired: Boolean(answered), conditionsCleared: dependants.map((d) => d.id) });
    });
    await this.announce({ formId: form.id, kind: 'questions' });
  }

  /**
   * Moves a question one place up or down. A question never moves before the question its
   * condition looks at (nor that question after it), so conditions always look back.
   */
  async moveQuestion(actor: Actor, form: Form, questionId: number, direction: 'up' | 'down', meta: FormsMeta): Promise<void> {
    const all = await this.questions(form.id);
    const i = all.findIndex((q) => q.id === questionId);
    if (i < 0) throw new NotFoundError();
    const j = direction === 'up' ? i - 1 : i + 1;
    const a = all[i]!;
    const b = all[j];
    if (!b) return;
    const [earlier, later] = direction === 'up' ? [b, a] : [a, b];
    if (later.showIf?.questionId === earlier.id) {
      throw new InputError({ _form: `「${later.label}」は「${earlier.label}」の回答で表示が決まるため、「${earlier.label}」より前には移動できません。` });
    }
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.updateTable('form_questions').set({ position: b.position }).where('id', '=', a.id).execute();
      await tx.updateTable('form_questions').set({ position: a.position }).where('id', '=', b.id).execute();
      await this.touch(tx, form.id, actor);
      await this.audit(tx, meta, form.organizationId, 'forms.question.move', form.id, `フォーム「${form.title}」の質問「${a.label}」を${direction === 'up' ? '上' : '下'}へ移動しました`, { questionId, direction });
    });
    await this.announce({ formId: form.id, kind: 'questions' });
  }

  private async touch(tx: Kysely<Database>, formId: number, actor: Actor): Promise<void> {
    await tx.updateTable('forms').set({ updated_at: nowIso(), updated_by: actor.id > 0 ? actor.id : null }).where('id', '=', formId).execute();
  }

  private async audit(tx: Kysely<Database>, meta: FormsMeta, organizationId: number | null, action: string, formId: number, summary: string, details?: unknown): Promise<void> {
    await this.deps.audit.record(
      { actor: meta.actor ? actorRef(meta.actor) : null, organizationId, ip: meta.ip ?? null, userAgent: meta.userAgent ?? null, action, targetType: 'form', targetId: formId, summary, details },
      tx,
    );
  }

  /** Pages embedding the form (for cache clearing and the builder's "埋め込み先"). */
  async embeds(formId: number): Promise<Array<{ nodeId: number; siteId: number; path: string }>> {
    const rows = await this.deps.db.selectFrom('form_embeds').selectAll().where('form_id', '=', formId).orderBy('node_id').execute();
    return rows.map((r) => ({ nodeId: r.node_id, siteId: r.site_id, path: r.path }));
  }
}
