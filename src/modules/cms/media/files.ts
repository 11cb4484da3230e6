import { fileTypeFromBuffer } from 'file-type';
import type { MediaKind } from './schema.js';

/**
 * What the media library accepts and how each kind is checked. A file is accepted only when its
 * extension, the MIME type the browser claimed and the content (sniffed with file-type, or checked
 * as text for txt/csv) all agree. SVG is refused outright: it can carry script.
 */
export interface FileTypeDef {
  extensions: string[];
  kind: MediaKind;
  /** What the file is served as. */
  mime: string;
  /** The MIME file-type reports for the content; null for plain text (checked separately). */
  sniffed: string | null;
  /** MIME types browsers send for such a file, besides `mime` (Windows sends CSV as Excel). */
  claimed: string[];
  /** The type named in link texts 「名前（PDF：1.2MB）」; the accessibility checker looks for it. */
  label: string;
  /** Shown in the browser (images, PDF) or downloaded (office files, text). */
  inline: boolean;
}

const OOXML = 'application/vnd.openxmlformats-officedocument';

export const FILE_TYPES: FileTypeDef[] = [
  { extensions: ['jpg', 'jpeg'], kind: 'image', mime: 'image/jpeg', sniffed: 'image/jpeg', claimed: ['image/pjpeg'], label: 'JPEG', inline: true },
  { extensions: ['png'], kind: 'image', mime: 'image/png', sniffed: 'image/png', claimed: ['image/x-png'], label: 'PNG', inline: true },
  { extensions: ['gif'], kind: 'image', mime: 'image/gif', sniffed: 'image/gif', claimed: [], label: 'GIF', inline: true },
  { extensions: ['webp'], kind: 'image', mime: 'image/webp', sniffed: 'image/webp', claimed: [], label: 'WebP', inline: true },
  { extensions: ['pdf'], kind: 'document', mime: 'application/pdf', sniffed: 'application/pdf', claimed: ['application/x-pdf'], label: 'PDF', inline: true },
  { extensions: ['docx'], kind: 'document', mime: `${OOXML}.wordprocessingml.document`, sniffed: `${OOXML}.wordprocessingml.document`, claimed: [], label: 'Word', inline: false },
  { extensions: ['xlsx'], kind: 'document', mime: `${OOXML}.spreadsheetml.sheet`, sniffed: `${OOXML}.spreadsheetml.sheet`, claimed: [], label: 'Excel', inline: false },
  { extensions: ['pptx'], kind: 'document', mime: `${OOXML}.presentationml.presentation`, sniffed: `${OOXML}.presentationml.presentation`, claimed: [], label: 'PowerPoint', inline: false },
  { extensions: ['odt'], kind: 'document', mime: 'application/vnd.oasis.opendocument.text', sniffed: 'application/vnd.oasis.opendocument.text', claimed: [], label: 'ODT', inline: false },
  { extensions: ['ods'], kind: 'document', mime: 'application/vnd.oasis.opendocument.spreadsheet', sniffed: 'application/vnd.oasis.opendocument.spreadsheet', claimed: [], label: 'ODS', inline: false },
  { extensions: ['txt'], kind: 'document', mime: 'text/plain', sniffed: null, claimed: [], label: 'テキスト', inline: false },
  {
    extensions: ['csv'],
    kind: 'document',
    mime: 'text/csv',
    sniffed: null,
    claimed: ['text/plain', 'application/vnd.ms-excel', 'application/csv', 'text/x-csv', 'text/comma-separated-values'],
    label: 'CSV',
    inline: false,
  },
];

/** What the upload screen says is accepted (the `accept` attribute and the hint). */
export const ACCEPT = FILE_TYPES.flatMap((t) => t.extensions.map((e) => `.${e}`)).join(',');

/** Claims that say nothing (no type, or the browser did not know it). */
const NO_CLAIM = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

export function typeForExtension(ext: string): FileTypeDef | undefined {
  return FILE_TYPES.find((t) => t.extensions.includes(ext));
}

/**
 * A stored display name: the last path segment, Unicode NFC, no control or reserved characters,
 * no leading dots, at most 120 characters with the extension kept. Never used as a path on disk.
 * @example safeFileName('../../etc/会議録 (1).PDF') // '会議録 (1).PDF'
 */
export function safeFileName(raw: string): string {
  const last = raw.split(/[/\\]/).pop() ?? '';
  let name = last
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .replace(/[<>:"|?*%#;]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+/, '');
  if (name.length > 120) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 && name.length - dot <= 10 ? name.slice(dot) : '';
    name = name.slice(0, 120 - ext.length) + ext;
  }
  return name || 'file';
}

/** Lower-case extension of a name, '' when there is none. */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** 「1.2MB」「245KB」「900バイト」 as link texts and lists write sizes. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')}MB`;
  if (bytes >= 1024) return `${Math.max(1, Math.round(bytes / 1024))}KB`;
  return `${bytes}バイト`;
}

export interface Inspected {
  type: FileTypeDef;
  /** For text files: how to decode them when serving. */
  charset?: 'utf-8' | 'shift_jis';
}

export class UploadRefused extends Error {}

// Long enough that compressed image data does not contain them by chance.
const MARKUP_IN_BINARY = /<script|<\?php\s|<iframe|<!doctype html|javascript:|onload=|onerror=/;
const MARKUP_IN_TEXT = /^\s*(?:<!doctype|<html|<\?php|<\?xml|<svg|<script|<head|<body|<iframe)/i;

/** Whether the file ends with a ZIP directory (a JAR/ZIP glued to an image or PDF). */
function endsWithZipDirectory(data: Uint8Array): boolean {
  const from = Math.max(0, data.length - 22 - 65535);
  for (let p = data.length - 22; p >= from; p--) {
    if (data[p] === 0x50 && data[p + 1] === 0x4b && data[p + 2] === 0x05 && data[p + 3] === 0x06) {
      const commentLength = data[p + 20]! | (data[p + 21]! << 8);
      if (p + 22 + commentLength === data.length) return true;
    }
  }
  return false;
}

function containsAscii(haystack: string, needles: string[]): string | undefined {
  return needles.find((n) => haystack.includes(n));
}

/** UTF-8 (with or without BOM) or Shift_JIS text without binary control characters, else null. */
function textCharset(data: Uint8Array): 'utf-8' | 'shift_jis' | null {
  for (const b of data) {
    // NUL and the C0 controls other than tab, line feed, form feed, carriage return and the old DOS end-of-file mark.
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d && b !== 0x1a) return null;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return 'utf-8';
  } catch {
    // fall through to Shift_JIS, which Excel writes on Japanese Windows
  }
  try {
    new TextDecoder('shift_jis', { fatal: true }).decode(data);
    return 'shift_jis';
  } catch {
    return null;
  }
}

/**
 * Decides what an uploaded file is from its name, the claimed MIME type and its content, or
 * throws UploadRefused with a Japanese message saying why and what to do.
 */
export async function inspectUpload(name: string, claimedMime: string, data: Uint8Array): Promise<Inspected> {
  const ext = extensionOf(name);
  if (ext === 'svg' || ext === 'svgz') throw new UploadRefused('SVG画像は、中にプログラムを含められるため登録できません。PNGまたはJPEGに変換してから登録してください。');
  const type = typeForExtension(ext);
  if (!type) throw new UploadRefused(`この形式（${ext ? `.${ext}` : '拡張子なし'}）のファイルは登録できません。画像（JPEG・PNG・GIF・WebP）か、文書（PDF・Word・Excel・PowerPoint・ODT・ODS・テキスト・CSV）を選んでください。`);
  if (data.length === 0) throw new UploadRefused('ファイルが空です。');
  const claimed = claimedMime.split(';')[0]!.trim().toLowerCase();
  if (!NO_CLAIM.has(claimed) && claimed !== type.mime && !type.claimed.includes(claimed)) {
    throw new UploadRefused(`ファイルの種類（${claimed}）が拡張子（.${ext}）と一致しません。ファイルの拡張子が正しいか確かめてください。`);
  }
  const sniffed = await fileTypeFromBuffer(data);
  if (type.sniffed === null) {
    if (sniffed) throw new UploadRefused(`このファイルの中身は${sniffed.ext.toUpperCase()}形式で、拡張子（.${ext}）と一致しません。`);
    const charset = textCharset(data);
    if (!charset) throw new UploadRefused(`このファイルは文字だけのファイル（.${ext}）ではないようです。UTF-8またはShift_JISのテキストを選んでください。`);
    const head = new TextDecoder(charset).decode(data.subarray(0, 1024)).replace(/^\ufeff/, '');
    if (MARKUP_IN_TEXT.test(head)) throw new UploadRefused('HTMLやプログラムのような内容のため、テキストとして登録できません。');
    return { type, charset };
  }
  if (sniffed?.mime !== type.sniffed) {
    throw new UploadRefused(`ファイルの中身が拡張子（.${ext}）と一致しません。${type.label}${type.kind === 'image' ? '画像' : 'ファイル'}ではないようです${sniffed ? `（中身は${sniffed.ext.toUpperCase()}形式）` : ''}。`);
  }
  // One byte per character, so byte offsets and markers line up; lower case for the HTML markers.
  const ascii = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  if (type.kind === 'image' || type.mime === 'application/pdf') {
    const lower = ascii.toLowerCase();
    if (MARKUP_IN_BINARY.test(lower) || endsWithZipDirectory(data)) {
      throw new UploadRefused(`${type.label}ファイルの中に、HTMLやプログラム、別のファイルのような内容が含まれているため登録できません。`);
    }
  }
  if (type.mime === 'application/pdf' && containsAscii(ascii, ['/JavaScript', '/Launch'])) {
    throw new UploadRefused('このPDFには、開くと動くプログラム（JavaScriptなど）が含まれているため登録できません。プログラムを含まないPDFとして保存し直してください。');
  }
  if (type.mime.startsWith(OOXML) && ascii.includes('vbaProject.bin')) {
    throw new UploadRefused('マクロを含むファイルは登録できません。マクロなしの形式で保存し直してください。');
  }
  return { type };
}
