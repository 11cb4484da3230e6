import type { Generated } from 'kysely';

/** draft → (scheduled →) open → closed → removed; set by staff and by the `forms.schedule` job. */
export type FormState = 'draft' | 'scheduled' | 'open' | 'closed' | 'removed';
/**
 * What a form is for. 'form' is the general form (C-3-10); 'survey' (H-12) and 'inquiry' (H-11)
 * share the same builder and responses; resident sign-in for them comes with resident accounts.
 */
export type FormKind = 'form' | 'survey' | 'inquiry';
/** 未対応 / 対応中 / 完了 */
export type ResponseStatus = 'new' | 'in_progress' | 'done';

export interface FormTable {
  id: Generated<number>;
  organization_id: number | null;
  kind: FormKind;
  /** Who may answer: 'public' (anyone) now; 'residents' (signed-in residents) once accounts exist. */
  audience: 'public' | 'residents';
  slug: string;
  title: string;
  description: string;
  state: FormState;
  opens_at: string | null;
  closes_at: string | null;
  removes_at: string | null;
  response_limit: number | null;
  /** Responses accepted so far; raised in the submit transaction, so the limit holds under load. */
  response_count: number;
  completion_message: string;
  /** Seconds a person needs at least between opening the form and confirming (spam defence). */
  min_fill_seconds: number;
  reply_enabled: 0 | 1;
  reply_subject: string;
  reply_body: string;
  /** The e-mail question whose answer receives the automatic reply (null: the first one). */
  reply_question_id: number | null;
  /** Staff addresses notified of each response, one per line. */
  notify_emails: string;
  created_by: number | null;
  updated_by: number | null;
  created_at: string;
  updated_at: string;
}

export interface FormQuestionTable {
  id: Generated<number>;
  form_id: number;
  position: number;
  type: string;
  label: string;
  help: string;
  required: 0 | 1;
  /** Choices of radio / checkbox / select questions: string[] as JSON. */
  options: string;
  /** Per-type rules (lengths, pattern, range, file limits, autocomplete) as JSON. */
  rules: string;
  /** `{ questionId, op, value }` as JSON, or null: shown only when an earlier answer matches. */
  show_if: string | null;
  /** Questions with answers are retired rather than deleted, so old responses keep their columns. */
  deleted_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface FormResponseTable {
  id: Generated<number>;
  form_id: number;
  receipt_number: string;
  /** SHA-256 of the confirmation screen's one-time key: a double submit finds the first response. */
  submission_key: string;
  status: ResponseStatus;
  memo: string;
  respondent_email: string | null;
  /** The signed-in resident, once resident accounts exist (issue 5); null for anonymous forms. */
  respondent_user_id: number | null;
  ip: string | null;
  user_agent: string | null;
  reply_mail_id: number | null;
  /** Ids of the staff notifications as JSON. */
  notify_mail_ids: string;
  submitted_at: string;
  updated_at: string;
  updated_by: number | null;
}

export interface FormAnswerTable {
  id: Generated<number>;
  response_id: number;
  question_id: number;
  /** The label when answered, so a later edit of the question does not rewrite old responses. */
  question_label: string;
  /** The answer as shown and exported (choices joined with 「、」). */
  value: string;
  /** The answer's parts as JSON (choices, postal code and address, file ids). */
  detail: string;
}

export interface FormFileTable {
  id: Generated<number>;
  form_id: number;
  question_id: number;
  /** Null while the upload waits on the confirmation screen. */
  response_id: number | null;
  /** Random key the confirmation screen carries for a waiting upload; null once attached. */
  upload_token: string | null;
  filename: string;
  /** Sniffed from the bytes (file-type), never taken from the browser. */
  mime: string;
  size: number;
  sha256: string;
  data: Buffer;
  created_at: string;
}

/** CMS pages whose live version embeds a form, kept by the CMS publish hook. */
export interface FormEmbedTable {
  node_id: number;
  site_id: number;
  form_id: number;
  path: string;
}

export interface FormReceiptCounterTable {
  year: number;
  last: number;
}

/** Japan Post's KEN_ALL, one row per postal code and town (imported, never fetched at runtime). */
export interface PostalCodeTable {
  id: Generated<number>;
  code: string;
  prefecture: string;
  city: string;
  town: string;
}

declare module '../../core/db/schema.js' {
  interface Database {
    forms: FormTable;
    form_questions: FormQuestionTable;
    form_responses: FormResponseTable;
    form_answers: FormAnswerTable;
    form_files: FormFileTable;
    form_embeds: FormEmbedTable;
    form_receipt_counters: FormReceiptCounterTable;
    postal_codes: PostalCodeTable;
  }
}
