import { describe, expect, it } from 'vitest';
import { formatDateAnswer, normalizeNumber, normalizePostal, normalizeTel, parseDate, toHalfWidth, toWareki } from './normalize.js';
import { compileCustomPattern, isSafePattern } from './patterns.js';
import { isValidReceiptNumber, receiptNumber } from './receipt.js';
import { cleanTown, parseKenAll } from './postal/index.js';
import { checkTemplate, renderTemplate } from './mail.js';
import { checkAnswers, parseQuestionInput, type Question } from './questions.js';
import { cleanFilename } from './responses.js';

describe('forms: width and format normalisation', () => {
  it('turns full-width input into half-width for telephone, postal code and numbers', () => {
    expect(toHalfWidth('ＡＢＣ１２３　＠')).toBe('ABC123 @');
    expect(normalizeTel('０９０ー１２３４ー５６７８')).toBe('090-1234-5678');
    expect(normalizeTel('（０３）１２３４－５６７８')).toBe('03-1234-5678');
    expect(normalizeTel('0312345678')).toBe('0312345678');
    expect(normalizeTel('+81-90-1234-5678')).toBe('090-1234-5678');
    expect(normalizeTel('123-456')).toBeNull();
    expect(normalizeTel('090-1234-5678\r\nBcc: x')).toBeNull();
    expect(normalizePostal('〒１２３ー４５６７')).toBe('123-4567');
    expect(normalizePostal('1234567')).toBe('123-4567');
    expect(normalizePostal('12-34567')).toBeNull();
    expect(normalizeNumber('－１，２００．５')).toBe(-1200.5);
    expect(normalizeNumber('１２')).toBe(12);
    expect(normalizeNumber('1e5')).toBeNull();
    expect(normalizeNumber('abc')).toBeNull();
  });

  it('reads dates in the Western and Japanese calendars and shows the era', () => {
    expect(parseDate('2026-04-01')).toBe('2026-04-01');
    expect(parseDate('２０２６年４月１日')).toBe('2026-04-01');
    expect(parseDate('令和8年4月1日')).toBe('2026-04-01');
    expect(parseDate('R8.4.1')).toBe('2026-04-01');
    expect(parseDate('令和元年5月1日')).toBe('2019-05-01');
    expect(parseDate('平成31年4月30日')).toBe('2019-04-30');
    expect(parseDate('平成31年5月1日')).toBeNull();
    expect(parseDate('昭和50年1月2日')).toBe('1975-01-02');
    expect(parseDate('2026-02-30')).toBeNull();
    expect(toWareki('1989-01-08')).toBe('平成元年1月8日');
    expect(toWareki('1989-01-07')).toBe('昭和64年1月7日');
    expect(toWareki('2026-04-01')).toBe('令和8年4月1日');
    expect(formatDateAnswer('2026-04-01')).toBe('2026年4月1日（令和8年4月1日）');
  });
});

describe('forms: custom patterns are checked for ReDoS before they are saved', () => {
  it('accepts ordinary patterns and refuses the catastrophic shapes', () => {
    expect(isSafePattern('[A-Z]-[0-9]{4}')).toBe(true);
    expect(isSafePattern('\\d{3}(-\\d{4})?')).toBe(true);
    expect(isSafePattern('(ab)+c')).toBe(true);
    expect(isSafePattern('(\\d{3}-){2}\\d{4}')).toBe(true);
    for (const bad of ['(a+)+$', '(a*)*b', '(a|a)*', '(a|ab)+c', '((a+))+', '(?:x+y?)*', '(\\w+\\s?)+$', '(a+){2,}']) {
      expect(isSafePattern(bad), bad).toBe(false);
    }
    expect(() => compileCustomPattern('(a)\\1')).toThrow(/後方参照/);
    expect(() => compileCustomPattern('(?=a)a')).toThrow(/先読み/);
    expect(() => compileCustomPattern('[')).toThrow(/正しくありません/);
    expect(() => compileCustomPattern('a'.repeat(201))).toThrow(/200文字/);
  });

  it('a refused pattern never reaches an answer; an accepted one matches the whole answer', () => {
    const re = compileCustomPattern('[A-Z]-[0-9]{4}');
    expect(re.test('A-1234')).toBe(true);
    expect(re.test('xA-1234')).toBe(false);
    const parsed = parseQuestionInput({ type: 'text', label: 'コード', pattern: 'custom', customPattern: '(a+)+$' }, []);
    expect(parsed.question).toBeUndefined();
    expect(parsed.errors.customPattern).toMatch(/処理が止まらなくなる/);
  });
});

describe('forms: reception numbers', () => {
  it('are readable, unique per year, non-sequential and carry a check letter', () => {
    const a = receiptNumber(2026, 1);
    const b = receiptNumber(2026, 2);
    expect(a).toMatch(/^2026-\d{6}-[A-Z]$/);
    expect(Number(b.slice(5, 11)) - Number(a.slice(5, 11))).not.toBe(1);
    const seen = new Set<string>();
    for (let i = 1; i <= 20000; i++) seen.add(receiptNumber(2026, i).slice(5, 11));
    expect(seen.size).toBe(20000);
    expect(isValidReceiptNumber(a)).toBe(true);
    expect(isValidReceiptNumber(a.toLowerCase())).toBe(true);
    // A mistyped digit or two swapped neighbours are caught.
    const digits = a.slice(5, 11);
    const typo = `${a.slice(0, 5)}${(Number(digits[0]) + 1) % 10}${digits.slice(1)}${a.slice(11)}`;
    expect(isValidReceiptNumber(typo)).toBe(false);
    if (digits[2] !== digits[3]) expect(isValidReceiptNumber(`${a.slice(0, 7)}${digits[3]}${digits[2]}${a.slice(9)}`)).toBe(false);
  });
});

describe('forms: Japan Post KEN_ALL', () => {
  it('cleans town names and joins towns split over several lines', () => {
    expect(cleanTown('以下に掲載がない場合')).toBe('');
    expect(cleanTown('大手町（次のビルを除く）')).toBe('大手町');
    expect(cleanTown('かわせ町一円')).toBe('');
    const rows = parseKenAll([
      '99201,"000  ","0000006","ﾐﾄﾞﾘｹﾝ","ｱｵﾊﾞｼ","ﾔﾏﾉﾃ","みどり県","あおば市","山の手（１番地、２番地、",1,0,0,0,0,0',
      '99201,"000  ","0000006","ﾐﾄﾞﾘｹﾝ","ｱｵﾊﾞｼ","3ﾊﾞﾝﾁ)","みどり県","あおば市","３番地）",1,0,0,0,0,0',
      '13101,"100  ","1000001","ﾄｳｷｮｳﾄ","ﾁﾖﾀﾞｸ","ﾁﾖﾀﾞ","東京都","千代田区","千代田",0,0,0,0,0,0',
    ].join('\r\n'));
    expect(rows).toEqual([
      { code: '0000006', prefecture: 'みどり県', city: 'あおば市', town: '山の手' },
      { code: '1000001', prefecture: '東京都', city: '千代田区', town: '千代田' },
    ]);
    expect(() => parseKenAll('name,email\nfoo,bar')).toThrow();
  });
});

describe('forms: mail templates', () => {
  const ctx = { receiptNumber: '2026-112648-K', formTitle: '公民館の利用申込み', submittedAt: '2026年4月1日（水）9:00', answers: [{ label: 'お名前', display: '山田 太郎' }, { label: 'ご意見', display: '1行目\n2行目' }] };

  it('fills placeholders and lists the answers', () => {
    const body = renderTemplate('{{回答:お名前}} 様\n受付番号 {{受付番号}}\n{{回答一覧}}', ctx);
    expect(body).toContain('山田 太郎 様');
    expect(body).toContain('受付番号 2026-112648-K');
    expect(body).toContain('・ご意見\n  1行目\n  2行目');
  });

  it('flattens answers in the subject so none can start a header line', () => {
    const evil = { ...ctx, answers: [{ label: 'お名前', display: '太郎\r\nBcc: evil@example.com' }] };
    const subject = renderTemplate('{{回答:お名前}}様 {{受付番号}}', evil, { subject: true });
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject).toBe('太郎 Bcc: evil@example.com様 2026-112648-K');
  });

  it('refuses unknown placeholders and questions that do not exist', () => {
    expect(checkTemplate('{{受付番号}} {{回答:お名前}}', ['お名前'])).toBeNull();
    expect(checkTemplate('{{氏名}}', ['お名前'])).toMatch(/使えません/);
    expect(checkTemplate('{{回答:住所}}', ['お名前'])).toMatch(/見つかりません/);
  });
});

describe('forms: answers', () => {
  const q = (id: number, type: Question['type'], extra: Partial<Question> = {}): Question => ({ id, formId: 1, position: id, type, label: `質問${id}`, help: '', required: false, options: [], rules: {}, showIf: null, deletedAt: null, ...extra });

  it('normalises, checks every rule and keeps answers of hidden questions out', () => {
    const questions = [
      q(1, 'radio', { label: 'ご用件', required: true, options: ['申込み', 'その他'] }),
      q(2, 'textarea', { label: 'その他の内容', required: true, showIf: { questionId: 1, op: 'equals', value: 'その他' } }),
      q(3, 'tel', { label: '電話番号', required: true }),
      q(4, 'checkbox', { label: '設備', options: ['A', 'B', 'C'], rules: { maxChoices: 2 } }),
      q(5, 'number', { label: '人数', rules: { min: 1, max: 10, integer: true } }),
      q(6, 'date', { label: '日付' }),
      q(7, 'consent', { label: '同意', required: true }),
      q(8, 'email', { label: 'メール' }),
    ];
    const ok = checkAnswers(questions, { q1: '申込み', q2: '見えないはずの答え', q3: '０３－１２３４－５６７８', q4: ['C', 'A'], q5: '３', q6: '令和8年4月1日', q7: '1', q8: 'ｔａｒｏ＠example.jp' });
    expect(ok.errors).toEqual({});
    expect(ok.visible.has(2)).toBe(false);
    expect(ok.answers.map((a) => [a.label, a.display])).toEqual([
      ['ご用件', '申込み'],
      ['電話番号', '03-1234-5678'],
      ['設備', 'A、C'],
      ['人数', '3'],
      ['日付', '2026年4月1日（令和8年4月1日）'],
      ['同意', '同意する'],
      ['メール', 'taro@example.jp'],
    ]);
    const bad = checkAnswers(questions, { q1: 'その他', q2: '', q3: '12', q4: ['A', 'B', 'C'], q5: '2.5', q6: '2026-02-30', q8: 'a@example.jp\r\nBcc: b@example.jp' });
    expect(bad.errors).toEqual({
      q2: 'その他の内容を入力してください。',
      q3: '電話番号を正しく入力してください（例: 03-1234-5678、090-1234-5678）。',
      q4: '設備は2つまで選べます。',
      q5: '人数は整数で入力してください。',
      q6: '日付を正しい日付で入力してください（例: 2026-04-01、令和8年4月1日）。',
      q7: '同意への同意が必要です。内容を確認し、チェックを入れてください。',
      q8: 'メールの形式が正しくありません（例: taro@example.jp）。',
    });
    const forged = checkAnswers(questions, { q1: '<script>', q3: '03-1234-5678', q7: '1' });
    expect(forged.errors.q1).toBe('ご用件は一覧の中から選んでください。');
  });

  it('keeps file names to a plain name', () => {
    expect(cleanFilename('../../etc/passwd')).toBe('passwd');
    expect(cleanFilename('C:\\Users\\a\\申請書.pdf')).toBe('申請書.pdf');
    expect(cleanFilename('a"b<c>.pdf\r\n')).toBe('a_b_c_.pdf');
  });
});
