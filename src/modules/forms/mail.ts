/**
 * The automatic reply and the staff notification (C-3-16). Templates are plain text that
 * administrators edit, with placeholders:
 *   {{受付番号}} {{フォーム名}} {{受付日時}} {{回答一覧}} {{回答:質問文}}
 * Answers go only into the body; in the subject they are flattened to one line, so no answer can
 * add a header (MailService refuses control characters as a second line of defence).
 */

export const DEFAULT_REPLY_SUBJECT = '【{{フォーム名}}】受付完了のお知らせ（受付番号 {{受付番号}}）';
export const DEFAULT_REPLY_BODY = [
  '{{フォーム名}}にご回答いただき、ありがとうございました。',
  '次の内容で受け付けました。',
  '',
  '受付番号: {{受付番号}}',
  '受付日時: {{受付日時}}',
  '',
  '■ ご回答の内容',
  '{{回答一覧}}',
  '',
  'お問い合わせの際は、受付番号をお知らせください。',
  'このメールは送信専用のアドレスから送っています。返信はできません。',
].join('\n');

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const FIXED = new Set(['受付番号', 'フォーム名', '受付日時', '回答一覧']);

/**
 * Checks a template's placeholders against the form's questions; a Japanese message for the
 * first unknown one, or null.
 */
export function checkTemplate(template: string, questionLabels: string[]): string | null {
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1]!;
    if (FIXED.has(name)) continue;
    if (name.startsWith('回答:')) {
      const label = name.slice(3).trim();
      if (questionLabels.includes(label)) continue;
      return `「{{${name}}}」の質問が見つかりません。{{回答:質問文}} の質問文は、質問の一覧と同じ文言にしてください。`;
    }
    return `「{{${name}}}」は使えません。使えるのは {{受付番号}} {{フォーム名}} {{受付日時}} {{回答一覧}} {{回答:質問文}} です。`;
  }
  return null;
}

export interface TemplateContext {
  receiptNumber: string;
  formTitle: string;
  /** 「2026年4月1日（水）9:00」 */
  submittedAt: string;
  answers: Array<{ label: string; display: string }>;
}

const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\s{2,}/g, ' ').trim();

/** The answers as the body lists them: 「■ 質問」 then the answer, indented. */
export function answerList(answers: TemplateContext['answers']): string {
  return answers.map((a) => `・${a.label}\n  ${(a.display || '（未回答）').replace(/\n/g, '\n  ')}`).join('\n');
}

/**
 * Fills a template. `subject` flattens every value to a single line and caps the length.
 * @example renderTemplate('受付番号 {{受付番号}}', ctx) // '受付番号 2026-112648-K'
 */
export function renderTemplate(template: string, ctx: TemplateContext, opts: { subject?: boolean } = {}): string {
  const value = (name: string): string => {
    if (name === '受付番号') return ctx.receiptNumber;
    if (name === 'フォーム名') return ctx.formTitle;
    if (name === '受付日時') return ctx.submittedAt;
    if (name === '回答一覧') return answerList(ctx.answers);
    if (name.startsWith('回答:')) {
      const label = name.slice(3).trim();
      return ctx.answers.find((a) => a.label === label)?.display ?? '';
    }
    return `{{${name}}}`;
  };
  const out = template.replace(PLACEHOLDER, (_m, name: string) => (opts.subject ? oneLine(value(name)) : value(name)));
  if (!opts.subject) return out.slice(0, 90_000);
  const line = oneLine(out);
  return Array.from(line).length > 190 ? `${Array.from(line).slice(0, 189).join('')}…` : line;
}

/** The staff notification: what came in, and where to read it in the admin. */
export function notificationText(ctx: TemplateContext, detailUrl: string): { subject: string; text: string } {
  return {
    subject: oneLine(`【フォーム受付】${ctx.formTitle}（受付番号 ${ctx.receiptNumber}）`).slice(0, 190),
    text: [
      `フォーム「${ctx.formTitle}」に新しい回答がありました。`,
      '',
      `受付番号: ${ctx.receiptNumber}`,
      `受付日時: ${ctx.submittedAt}`,
      '',
      '■ 回答の内容',
      answerList(ctx.answers),
      '',
      `管理画面で確認する: ${detailUrl}`,
      '（このメールには個人情報が含まれます。転送しないでください。）',
    ].join('\n'),
  };
}
