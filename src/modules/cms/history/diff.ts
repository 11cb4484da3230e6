import { diffArrays, diffWords } from 'diff';
import { Parser } from 'htmlparser2';

/**
 * Differences between two versions of a page as people read them: the title, summary and fields
 * word by word, and the body block by block (paragraph, heading, list item, table row), with
 * the changed blocks diffed word by word. Japanese has no spaces between words, so words are
 * found with Intl.Segmenter.
 */

export interface DiffPart {
  kind: 'same' | 'ins' | 'del';
  text: string;
}

export interface TextDiff {
  changed: boolean;
  parts: DiffPart[];
}

/** One block of the body: what kind it is (段落, 見出し2…) and its text. */
export interface BodyBlock {
  label: string;
  text: string;
}

export interface BlockRow {
  kind: 'same' | 'changed' | 'added' | 'removed';
  label: string;
  /** For 'changed', the word diff; otherwise one part with the block's text. */
  parts: DiffPart[];
}

export interface VersionDiff {
  title: TextDiff;
  summary: TextDiff;
  fields: Array<{ key: string; diff: TextDiff }>;
  body: BlockRow[];
  /** True when nothing at all differs. */
  same: boolean;
}

export interface DiffableVersion {
  title: string;
  summary: string | null;
  fields: Record<string, unknown>;
  bodyHtml: string;
}

const segmenter = new Intl.Segmenter('ja', { granularity: 'word' });

/** Word-level differences of two texts. */
export function diffText(before: string, after: string): TextDiff {
  if (before === after) return { changed: false, parts: before ? [{ kind: 'same', text: before }] : [] };
  const parts: DiffPart[] = diffWords(before, after, { intlSegmenter: segmenter }).map((c) => ({ kind: c.added ? 'ins' : c.removed ? 'del' : 'same', text: c.value }));
  return { changed: true, parts };
}

const BLOCK_LABELS: Record<string, string> = {
  p: '段落',
  h1: '見出し1',
  h2: '見出し2',
  h3: '見出し3',
  h4: '見出し4',
  h5: '見出し5',
  h6: '見出し6',
  li: '箇条書き',
  tr: '表の行',
  blockquote: '引用',
  pre: '整形済みテキスト',
  caption: '表の見出し',
  figcaption: '図の説明',
  dt: '用語',
  dd: '説明',
};
/** Blocks that start their own row even inside another block (a nested list item, a row). */
const NESTING = new Set(['li', 'tr', 'caption']);

/**
 * The blocks of a sanitised body with their text. Images count by their alternative text and
 * links show where they lead, so a changed alt or address shows in the diff too.
 */
export function bodyBlocks(html: string): BodyBlock[] {
  const blocks: BodyBlock[] = [];
  const stack: Array<{ tag: string; text: string }> = [];
  let loose = '';
  const flush = (label: string, text: string) => {
    const t = text.replace(/\s+/g, ' ').trim();
    if (t) blocks.push({ label, text: t });
  };
  const append = (t: string) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
    else loose += t;
  };
  const links: string[] = [];
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name in BLOCK_LABELS && (stack.length === 0 || NESTING.has(name))) {
          const top = stack[stack.length - 1];
          if (top) {
            flush(BLOCK_LABELS[top.tag]!, top.text);
            top.text = '';
          } else {
            flush('テキスト', loose);
            loose = '';
          }
          stack.push({ tag: name, text: '' });
          return;
        }
        if (name === 'img') append(`［画像: ${attrs.alt ? attrs.alt : '代替テキストなし'}］`);
        else if (name === 'br') append(' ');
        else if (name === 'a') links.push(attrs.href ?? '');
        else if (name === 'p' || name === 'div') append(' ');
      },
      ontext(text) {
        append(text);
      },
      onclosetag(name) {
        if (name === 'a') {
          const href = links.pop();
          if (href) append(`［リンク先: ${href}］`);
          return;
        }
        if (name === 'td' || name === 'th') {
          append(' | ');
          return;
        }
        const top = stack[stack.length - 1];
        if (top && top.tag === name) {
          stack.pop();
          flush(BLOCK_LABELS[name]!, top.tag === 'tr' ? top.text.replace(/\s*\|\s*$/, '') : top.text);
        }
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  for (const open of stack.reverse()) flush(BLOCK_LABELS[open.tag]!, open.text);
  flush('テキスト', loose);
  return blocks;
}

/**
 * Block-level differences: blocks are matched as whole lines (label and text); a run of removed
 * blocks followed by added ones is paired up, and each pair is shown as one changed block with
 * its words diffed.
 */
export function diffBlocks(before: BodyBlock[], after: BodyBlock[]): BlockRow[] {
  const key = (b: BodyBlock) => `${b.label}\u0000${b.text}`;
  const changes = diffArrays(before.map(key), after.map(key));
  const split = (k: string): BodyBlock => {
    const i = k.indexOf('\u0000');
    return { label: k.slice(0, i), text: k.slice(i + 1) };
  };
  const rows: BlockRow[] = [];
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    if (!c.added && !c.removed) {
      for (const k of c.value) {
        const b = split(k);
        rows.push({ kind: 'same', label: b.label, parts: [{ kind: 'same', text: b.text }] });
      }
      continue;
    }
    if (c.removed && changes[i + 1]?.added) {
      const removed = c.value.map(split);
      const added = changes[i + 1]!.value.map(split);
      const pairs = Math.min(removed.length, added.length);
      for (let j = 0; j < pairs; j++) {
        const a = removed[j]!;
        const b = added[j]!;
        rows.push({ kind: 'changed', label: a.label === b.label ? b.label : `${a.label} → ${b.label}`, parts: diffText(a.text, b.text).parts });
      }
      for (const b of removed.slice(pairs)) rows.push({ kind: 'removed', label: b.label, parts: [{ kind: 'del', text: b.text }] });
      for (const b of added.slice(pairs)) rows.push({ kind: 'added', label: b.label, parts: [{ kind: 'ins', text: b.text }] });
      i++;
      continue;
    }
    for (const k of c.value) {
      const b = split(k);
      rows.push(c.added ? { kind: 'added', label: b.label, parts: [{ kind: 'ins', text: b.text }] } : { kind: 'removed', label: b.label, parts: [{ kind: 'del', text: b.text }] });
    }
  }
  return rows;
}

/** A field value as text: strings as they are, everything else as readable JSON. */
function fieldText(v: unknown): string {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v, null, 1).replace(/\n\s*/g, ' ');
}

/** Everything that differs between two versions (the older one first). */
export function diffVersions(before: DiffableVersion, after: DiffableVersion): VersionDiff {
  const title = diffText(before.title, after.title);
  const summary = diffText(before.summary ?? '', after.summary ?? '');
  const keys = [...new Set([...Object.keys(before.fields), ...Object.keys(after.fields)])].sort();
  const fields = keys.map((key) => ({ key, diff: diffText(fieldText(before.fields[key]), fieldText(after.fields[key])) })).filter((f) => f.diff.changed);
  const body = diffBlocks(bodyBlocks(before.bodyHtml), bodyBlocks(after.bodyHtml));
  return { title, summary, fields, body, same: !title.changed && !summary.changed && fields.length === 0 && body.every((r) => r.kind === 'same') };
}
