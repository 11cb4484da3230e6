import { DomUtils, ElementType, parseDocument } from 'htmlparser2';

/**
 * The accessibility checker shown beside the page editor. Its rules follow what JIS X 8341-3
 * (WCAG 2.x) audits of Japanese municipal sites find most often in pages written by staff; errors
 * block the approval request, warnings are advice.
 */

export type A11yIssueCode =
  | 'img-alt-missing'
  | 'img-alt-filename'
  | 'iframe-no-title'
  | 'heading-h1-in-body'
  | 'heading-first-level'
  | 'heading-skip'
  | 'empty-heading'
  | 'vague-link-text'
  | 'empty-link'
  | 'pdf-link-no-info'
  | 'link-new-window-unannounced'
  | 'table-no-header'
  | 'table-no-caption'
  | 'machine-dependent-char'
  | 'all-caps-or-spaced-japanese'
  | 'color-only-emphasis';

export interface A11yIssue {
  code: A11yIssueCode;
  severity: 'error' | 'warning';
  /** Japanese, says what is wrong and what to do. */
  message: string;
  /** Short text around the problem, so the editor can find it. */
  excerpt: string;
  /** Suggested replacement text, when one can be computed. */
  fix?: string;
}

type Doc = ReturnType<typeof parseDocument>;
type Node = Doc['children'][number];
type Element = Parameters<typeof DomUtils.getAttributeValue>[0];
type Text = Extract<Node, { type: typeof ElementType.Text }>;

const isTag = (n: Node): n is Node & Element => ElementType.isTag(n);
const isText = (n: Node): n is Text => n.type === ElementType.Text;
const attr = (el: Element, name: string): string | undefined => DomUtils.getAttributeValue(el, name);

// ---------------------------------------------------------------------------------------------
// Machine-dependent characters (機種依存文字)
// ---------------------------------------------------------------------------------------------

// Replacements NFKC does not give, or gives in a form residents would not read naturally.
const FIXES: Record<string, string> = {
  '㎡': '平方メートル', '㎥': '立方メートル', '㎠': '平方センチメートル', '㎢': '平方キロメートル',
  '㏍': 'K.K.', '№': 'No.', '℡': 'TEL', '〝': '“', '〟': '”', '〞': '”', '∑': 'Σ',
};
// No faithful replacement: the editor has to reword.
const NO_FIX = new Set(['∮', '∟', '⊿']);

/**
 * Circled numbers, Roman numerals, parenthesised/circled ideographs, squared katakana and units,
 * era names, and NEC/IBM symbols that older PCs and some screen readers get wrong.
 */
const MACHINE_CHAR_SOURCE =
  '[\\u2460-\\u2473\\u3251-\\u325f\\u32b1-\\u32bf\\u2160-\\u217f\\u3220-\\u3243\\u3280-\\u32b0\\u32ff' +
  '\\u3300-\\u3357\\u337b-\\u337f\\u3380-\\u33df\\u2116\\u2121\\u301d-\\u301f\\u222e\\u2211\\u221f\\u22bf]' +
  // Half-width katakana (and its punctuation) in runs, so ｶﾞ is fixed as one ガ.
  '|[\\uff61-\\uff9f]+';

function circledNumber(ch: string): number | null {
  const c = ch.codePointAt(0)!;
  if (c >= 0x2460 && c <= 0x2473) return c - 0x2460 + 1;
  if (c >= 0x3251 && c <= 0x325f) return c - 0x3251 + 21;
  if (c >= 0x32b1 && c <= 0x32bf) return c - 0x32b1 + 36;
  return null;
}

/** The replacement for one machine-dependent character or half-width katakana run, if any. */
function replacementFor(s: string): string | undefined {
  if (FIXES[s] !== undefined) return FIXES[s];
  if (NO_FIX.has(s)) return undefined;
  const n = circledNumber(s);
  if (n !== null) return `(${n})`;
  const c = s.codePointAt(0)!;
  // ㊤ → (上): NFKC would drop the circle, which carries meaning.
  if (c >= 0x3280 && c <= 0x32b0) return `(${s.normalize('NFKC')})`;
  // ㈱ → (株), ㍉ → ミリ, ㎏ → kg, Ⅻ → XII, ㍻ → 平成, ｶﾞ → ガ
  return s.normalize('NFKC');
}

/**
 * Replaces machine-dependent characters with portable text: ① → (1), ㈱ → (株), ㍉ → ミリ,
 * ㎡ → 平方メートル, Ⅲ → III, ｶﾀｶﾅ → カタカナ. Characters with no faithful replacement (∮ ∟ ⊿)
 * are left for the editor to reword. Replacements never contain `<`, `>`, `&` or quotes, so the
 * function is also safe to run over a whole HTML body.
 *
 * @example
 * fixMachineDependentChars('①申請書を㈱まちまどへ提出（ｶﾀｶﾅ可）') // '(1)申請書を(株)まちまどへ提出（カタカナ可）'
 */
export function fixMachineDependentChars(text: string): string {
  return text.replace(new RegExp(MACHINE_CHAR_SOURCE, 'gu'), (m) => replacementFor(m) ?? m);
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const EXCERPT_SIDE = 15;

function around(text: string, index: number, length: number): string {
  const start = Math.max(0, index - EXCERPT_SIDE);
  const end = Math.min(text.length, index + length + EXCERPT_SIDE);
  return `${start > 0 ? '…' : ''}${text.slice(start, end).replace(/[\r\n\t ]+/g, ' ')}${end < text.length ? '…' : ''}`;
}

function short(text: string, max = 40): string {
  const t = text.replace(/[\r\n\t ]+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** What a screen reader announces for an element: its text plus the alt text of its images. */
function accessibleText(el: Element): string {
  const label = attr(el, 'aria-label')?.trim();
  if (label) return label;
  let out = '';
  const walk = (nodes: readonly Node[]): void => {
    for (const n of nodes) {
      if (isText(n)) out += n.data;
      else if (isTag(n)) {
        if (n.name === 'img') out += attr(n, 'alt') ?? '';
        else if (n.name !== 'script' && n.name !== 'style') walk(n.children);
      }
    }
  };
  walk(el.children);
  return out.replace(/[\s\u00a0\u3000]+/g, ' ').trim();
}

function hasOnlyWhitespace(s: string): boolean {
  return s.replace(/[\s\u00a0\u3000]/g, '') === '';
}

/** NFKC (full/half width), lower case, katakana folded to hiragana, no spaces or symbols. */
function normaliseLinkText(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60))
    .replace(/[\s\p{P}\p{S}]/gu, '');
}

// Link texts that say nothing out of context (a screen-reader user listing the page's links
// hears only these). Compared after normaliseLinkText and with parenthesised notes removed.
const VAGUE_LINK_TEXTS = new Set(
  [
    'こちら', 'ここ', 'こちらから', 'ここから', 'こちらへ', 'こちらです', 'こちらをクリック', 'ここをクリック',
    'こちらをご覧ください', 'こちらをごらんください', 'クリック', 'クリックしてください', '詳しくはこちら',
    '詳細はこちら', '詳しくはここ', '詳細', '詳しく', '詳細を見る', 'もっと見る', '続きを読む', '続き',
    'リンク', 'このリンク', 'このページ', 'ページ', 'click here', 'click', 'here', 'more', 'read more',
    'link', 'this link', 'details', 'detail', 'more info',
  ].map(normaliseLinkText),
);

/** Removes （…） / (…) notes such as （PDF：245KB） or （新しいウィンドウで開きます）. */
function withoutNotes(s: string): string {
  return s.replace(/[（(][^（()）]*[)）]/g, '');
}

const FILE_TYPES: { re: RegExp; label: string; words: RegExp }[] = [
  { re: /\.pdf$/i, label: 'PDF', words: /pdf/i },
  { re: /\.(?:docx?|docm|rtf|odt)$/i, label: 'Word', words: /word|ワード|docx?|rtf|odt|文書/i },
  { re: /\.(?:xlsx?|xlsm|ods)$/i, label: 'Excel', words: /excel|エクセル|xlsx?|xlsm|ods/i },
  { re: /\.csv$/i, label: 'CSV', words: /csv/i },
  { re: /\.(?:pptx?|odp)$/i, label: 'PowerPoint', words: /powerpoint|パワーポイント|pptx?|odp/i },
  { re: /\.zip$/i, label: 'ZIP', words: /zip/i },
];
const FILE_SIZE = /\d+(?:[.,]\d+)?\s*(?:[kmg]i?b|bytes?|キロバイト|メガバイト|ギガバイト|バイト)/i;
const NEW_WINDOW_NOTICE = /新しい(?:ウィンドウ|ウインドウ|タブ|窓)|別(?:の)?(?:ウィンドウ|ウインドウ|タブ|窓)|new (?:window|tab)/i;

function fileTypeOf(href: string): (typeof FILE_TYPES)[number] | null {
  const path = href.split(/[?#]/)[0] ?? '';
  return FILE_TYPES.find((t) => t.re.test(path)) ?? null;
}

const JP = '[\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}ー々〆]';
// Single Japanese characters separated by spaces: 「氏　名」「お 知 ら せ」. A name such as
// 「山田　太郎」 (words longer than one character) is not matched.
const SPACED_JAPANESE = new RegExp(`(?<!${JP})${JP}(?:[ \\u3000\\u00a0]+${JP})+(?!${JP})`, 'gu');

const EMPHASIS = new Set(['strong', 'em', 'b', 'mark']);
const HEADING = /^h([1-6])$/;

// ---------------------------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------------------------

/**
 * Checks a page body for the accessibility problems the editor must fix before requesting
 * approval (errors) or should consider (warnings). Issues come in document order; messages are
 * Japanese and say what to do.
 *
 * @example
 * checkAccessibility('<h3>申請方法</h3><p><a href="/a.pdf">こちら</a></p>').map((i) => i.code)
 * // ['heading-first-level', 'vague-link-text', 'pdf-link-no-info']
 */
export function checkAccessibility(html: string): A11yIssue[] {
  const doc = parseDocument(html, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true });
  const issues: A11yIssue[] = [];
  const machineChars = new Map<string, { count: number; excerpt: string; order: number }>();
  const spaced = new Set<string>();
  let previousLevel: number | null = null;

  const noteMachineChars = (text: string): void => {
    for (const m of text.matchAll(new RegExp(MACHINE_CHAR_SOURCE, 'gu'))) {
      const seen = machineChars.get(m[0]);
      if (seen) seen.count++;
      else {
        machineChars.set(m[0], { count: 1, excerpt: around(text, m.index, m[0].length), order: issues.length });
        // Placeholder keeps document order; replaced once all occurrences are counted.
        issues.push({ code: 'machine-dependent-char', severity: 'error', message: m[0], excerpt: '' });
      }
    }
  };

  const checkText = (t: Text, ancestors: readonly Element[]): void => {
    if (ancestors.some((a) => a.name === 'script' || a.name === 'style')) return;
    noteMachineChars(t.data);
    for (const m of t.data.matchAll(SPACED_JAPANESE)) {
      if (spaced.has(m[0])) continue;
      spaced.add(m[0]);
      issues.push({
        code: 'all-caps-or-spaced-japanese',
        severity: 'warning',
        message: `「${m[0]}」のように文字の間に空白が入っていると、読み上げソフトが一語として読めません。見た目の調整のための空白は削除してください。`,
        excerpt: around(t.data, m.index, m[0].length),
        fix: m[0].replace(/[ \u3000\u00a0]+/g, ''),
      });
    }
  };

  const checkHeading = (el: Element, level: number): void => {
    const text = accessibleText(el);
    const excerpt = short(text) || `<${el.name}>`;
    if (hasOnlyWhitespace(text)) {
      issues.push({
        code: 'empty-heading',
        severity: 'error',
        message: `見出し${level}（h${level}）に文字がありません。内容を表す見出しを入力するか、見出しを削除してください。`,
        excerpt,
      });
    }
    if (level === 1) {
      issues.push({
        code: 'heading-h1-in-body',
        severity: 'error',
        message: '見出し1（h1）はページタイトル専用です。本文の見出しは見出し2（h2）から使ってください。',
        excerpt,
        fix: '見出し2',
      });
    } else if (previousLevel === null && level > 2) {
      issues.push({
        code: 'heading-first-level',
        severity: 'error',
        message: `本文の最初の見出しが見出し${level}（h${level}）です。ページタイトルの次は見出し2（h2）から始めてください。`,
        excerpt,
        fix: '見出し2',
      });
    } else if (previousLevel !== null && level > previousLevel + 1) {
      issues.push({
        code: 'heading-skip',
        severity: 'error',
        message: `見出し${previousLevel}（h${previousLevel}）の次に見出し${level}（h${level}）があり、見出しのレベルが飛んでいます。見出し${previousLevel + 1}（h${previousLevel + 1}）にしてください。`,
        excerpt,
        fix: `見出し${previousLevel + 1}`,
      });
    }
    previousLevel = level;
  };

  const checkLink = (el: Element): void => {
    const href = attr(el, 'href');
    if (href === undefined) return;
    const text = accessibleText(el);
    const excerpt = short(text) || `<a href="${short(href, 60)}">`;
    if (hasOnlyWhitespace(text)) {
      issues.push({
        code: 'empty-link',
        severity: 'error',
        message: 'リンクに文字がありません。リンク先の内容が分かる文字を入れてください（画像だけのリンクは、画像の代替テキストにリンク先を書いてください）。',
        excerpt,
      });
      return;
    }
    if (VAGUE_LINK_TEXTS.has(normaliseLinkText(withoutNotes(text)))) {
      issues.push({
        code: 'vague-link-text',
        severity: 'error',
        message: `リンクの文字「${short(text, 20)}」だけではリンク先が分かりません。「申請書の様式」のように、リンク先の内容が分かる文字にしてください。`,
        excerpt,
      });
    }
    const type = fileTypeOf(href);
    if (type) {
      const normal = text.normalize('NFKC');
      const hasType = type.words.test(normal);
      const hasSize = FILE_SIZE.test(normal);
      if (!hasType || !hasSize) {
        const missing = !hasType && !hasSize ? 'ファイル形式とサイズ' : !hasType ? 'ファイル形式' : 'ファイルサイズ';
        issues.push({
          code: 'pdf-link-no-info',
          severity: 'error',
          message: `${type.label}ファイルへのリンクに${missing}が書かれていません。「募集要項（${type.label}：245KB）」のように、リンクの文字に形式とサイズを入れてください。`,
          excerpt,
          ...(hasType || hasSize ? {} : { fix: `${text}（${type.label}：○○KB）` }),
        });
      }
    }
    if (attr(el, 'target')?.trim().toLowerCase() === '_blank' && !NEW_WINDOW_NOTICE.test(text.normalize('NFKC'))) {
      issues.push({
        code: 'link-new-window-unannounced',
        severity: 'warning',
        message: 'このリンクは新しいウィンドウで開きますが、そのことが書かれていません。リンクの文字に「（新しいウィンドウで開きます）」を加えるか、同じウィンドウで開くようにしてください。',
        excerpt,
        fix: `${text}（新しいウィンドウで開きます）`,
      });
    }
  };

  const checkImage = (el: Element): void => {
    const alt = attr(el, 'alt');
    const src = attr(el, 'src') ?? '';
    const excerpt = `<img src="${short(src, 60)}">`;
    const decorativeMark = attr(el, 'data-decorative');
    const role = attr(el, 'role')?.trim().toLowerCase();
    const decorative = (decorativeMark !== undefined && decorativeMark.toLowerCase() !== 'false') || role === 'presentation' || role === 'none';
    if (alt === undefined || (hasOnlyWhitespace(alt) && !decorative)) {
      issues.push({
        code: 'img-alt-missing',
        severity: 'error',
        message: '画像に代替テキスト（alt）がありません。画像の内容を説明する文を入力してください。飾りだけの画像なら「装飾画像」に設定してください。',
        excerpt,
      });
    } else if (/\.(?:jpe?g|png|gif|webp|svg|bmp|tiff?)$/i.test(alt.trim()) || /^(?:img|dsc|dscn|image|pxl)[_-]?\d+$/i.test(alt.trim())) {
      issues.push({
        code: 'img-alt-filename',
        severity: 'warning',
        message: `代替テキスト「${short(alt, 30)}」はファイル名のようです。画像の内容を説明する文にしてください。`,
        excerpt,
      });
    }
  };

  const checkTable = (el: Element): void => {
    const cells = DomUtils.findAll((e) => e.name === 'th' || e.name === 'td', el.children);
    const excerpt = short(cells.map(accessibleText).filter(Boolean).join(' '), 30) || '<table>';
    if (!cells.some((c) => c.name === 'th')) {
      issues.push({
        code: 'table-no-header',
        severity: 'error',
        message: '表に見出しセル（th）がありません。項目名の行または列を「見出しセル」に設定してください。',
        excerpt,
      });
    }
    const caption = el.children.find((c): c is Node & Element => isTag(c) && c.name === 'caption');
    if (!caption || hasOnlyWhitespace(accessibleText(caption))) {
      issues.push({
        code: 'table-no-caption',
        severity: 'warning',
        message: '表にキャプション（表の名前）がありません。「令和7年度 受付日程」のように、何の表かが分かるキャプションを付けてください。',
        excerpt,
      });
    }
  };

  const checkColour = (el: Element, ancestors: readonly Element[]): void => {
    const coloured = /(?:^|;)\s*color\s*:/i.test(attr(el, 'style') ?? '') || (el.name === 'font' && attr(el, 'color') !== undefined);
    if (!coloured) return;
    const text = accessibleText(el);
    if (hasOnlyWhitespace(text)) return;
    const emphasised = EMPHASIS.has(el.name) || ancestors.some((a) => EMPHASIS.has(a.name)) || DomUtils.findOne((e) => EMPHASIS.has(e.name), el.children) !== null;
    if (emphasised) return;
    issues.push({
      code: 'color-only-emphasis',
      severity: 'warning',
      message: '文字の色だけで強調しています。色の区別がつかない人や読み上げソフトには伝わりません。太字（強調）にする、「※」や「【重要】」を付けるなど、色以外でも分かるようにしてください。',
      excerpt: short(text),
    });
  };

  const walk = (nodes: readonly Node[], ancestors: Element[]): void => {
    for (const n of nodes) {
      if (isText(n)) {
        checkText(n, ancestors);
        continue;
      }
      if (!isTag(n)) continue;
      const name = n.name;
      const h = HEADING.exec(name);
      if (h) checkHeading(n, Number(h[1]));
      else if (name === 'a') checkLink(n);
      else if (name === 'img') {
        checkImage(n);
        const alt = attr(n, 'alt');
        if (alt) noteMachineChars(alt);
      } else if (name === 'table') checkTable(n);
      else if (name === 'iframe' && hasOnlyWhitespace(attr(n, 'title') ?? '')) {
        issues.push({
          code: 'iframe-no-title',
          severity: 'error',
          message: '埋め込み動画・地図にタイトル（title）がありません。「ごみの出し方の説明動画」のように内容が分かるタイトルを入力してください。',
          excerpt: `<iframe src="${short(attr(n, 'src') ?? '', 60)}">`,
        });
      }
      checkColour(n, ancestors);
      if (name === 'script' || name === 'style') continue;
      ancestors.push(n);
      walk(n.children, ancestors);
      ancestors.pop();
    }
  };
  walk(doc.children, []);

  // Fill in the machine-dependent character placeholders now that occurrences are counted.
  for (const [ch, info] of machineChars) {
    const fix = replacementFor(ch);
    const times = info.count > 1 ? `（${info.count}か所）` : '';
    issues[info.order] = {
      code: 'machine-dependent-char',
      severity: 'error',
      message: fix === undefined
        ? `機種依存文字「${ch}」が使われています${times}。パソコンや読み上げソフトによって正しく表示・読み上げされないため、別の書き方にしてください。`
        : `機種依存文字「${ch}」が使われています${times}。パソコンや読み上げソフトによって正しく表示・読み上げされないため、「${fix}」に置き換えてください。`,
      excerpt: info.excerpt,
      ...(fix === undefined ? {} : { fix }),
    };
  }
  return issues;
}

/**
 * Whether the issues block the approval request: any error does; warnings never do.
 *
 * @example
 * hasBlockingIssues(checkAccessibility('<img src="/media/a.png">')) // true
 */
export function hasBlockingIssues(issues: readonly A11yIssue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}
