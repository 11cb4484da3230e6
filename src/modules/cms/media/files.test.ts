import ExcelJS from 'exceljs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { checkAccessibility } from '../content/index.js';
import { sanitizeBody } from '../content/sanitize.js';
import { extensionOf, formatBytes, inspectUpload, safeFileName, UploadRefused } from './files.js';
import { processImage } from './images.js';
import { MediaUrlSigner } from './signing.js';
import { documentLinkText, mediaIdsIn, renderMediaInBody, type MediaForMarkup } from './markup.js';
import * as files from './test-files.js';

const refused = async (name: string, mime: string, data: Uint8Array): Promise<string> => {
  try {
    await inspectUpload(name, mime, data);
  } catch (e) {
    if (e instanceof UploadRefused) return e.message;
    throw e;
  }
  throw new Error(`${name} was accepted`);
};

describe('what the library accepts, by content', () => {
  it('accepts images and documents whose extension, claimed type and content agree', async () => {
    const xlsx = new ExcelJS.Workbook();
    xlsx.addWorksheet('収集日').addRow(['地区', '曜日']);
    const cases: Array<[string, string, Uint8Array, string]> = [
      ['photo.JPG', 'image/jpeg', await files.photoWithGps(), 'image/jpeg'],
      ['map.png', 'image/png', await files.png(), 'image/png'],
      ['anim.gif', 'image/gif', await files.gif(), 'image/gif'],
      ['pic.webp', '', await files.webp(), 'image/webp'],
      ['会議録.pdf', 'application/pdf', files.pdf(), 'application/pdf'],
      ['様式.docx', 'application/octet-stream', files.docx(), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
      ['表.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', new Uint8Array(await xlsx.xlsx.writeBuffer()), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
      ['文書.odt', '', files.odt(), 'application/vnd.oasis.opendocument.text'],
      ['収集日.csv', 'application/vnd.ms-excel', files.sjisCsv(), 'text/csv'],
      ['readme.txt', 'text/plain', Buffer.from('\ufeffお知らせ\n'), 'text/plain'],
    ];
    for (const [name, mime, data, expected] of cases) {
      const r = await inspectUpload(name, mime, data);
      expect(r.type.mime, name).toBe(expected);
    }
    expect((await inspectUpload('収集日.csv', '', files.sjisCsv())).charset).toBe('shift_jis');
    expect((await inspectUpload('readme.txt', '', Buffer.from('abc'))).charset).toBe('utf-8');
  });

  it('refuses PHP, HTML and SVG renamed .jpg, SVG itself, and unknown types, with Japanese reasons', async () => {
    expect(await refused('shell.jpg', 'image/jpeg', files.attacks.php)).toContain('拡張子（.jpg）と一致しません');
    expect(await refused('page.jpg', 'image/jpeg', files.attacks.html)).toContain('JPEG画像ではないようです');
    expect(await refused('logo.jpg', 'image/jpeg', files.attacks.svg)).toContain('一致しません');
    expect(await refused('logo.svg', 'image/svg+xml', files.attacks.svg)).toContain('SVG画像は、中にプログラムを含められるため');
    expect(await refused('run.exe', '', Buffer.from('MZ\x90\x00'))).toContain('この形式（.exe）のファイルは登録できません');
    expect(await refused('noext', '', Buffer.from('x'))).toContain('拡張子なし');
    // The claimed type must agree too: a PNG sent as text/html is refused.
    expect(await refused('map.png', 'text/html', await files.png())).toContain('ファイルの種類（text/html）が拡張子（.png）と一致しません');
    // A PNG named .jpg is not a JPEG.
    expect(await refused('map.jpg', 'image/jpeg', await files.png())).toContain('中身はPNG形式');
    expect(await refused('empty.pdf', 'application/pdf', new Uint8Array())).toBe('ファイルが空です。');
  });

  it('refuses polyglots: an image with HTML or a ZIP glued on, a PDF with JavaScript, Office macros, markup as text', async () => {
    expect(await refused('cat.jpg', 'image/jpeg', await files.attacks.jpegWithHtml())).toContain('HTMLやプログラム、別のファイルのような内容');
    expect(await refused('cat.jpg', 'image/jpeg', await files.attacks.jpegWithZip())).toContain('別のファイルのような内容');
    expect(await refused('form.pdf', 'application/pdf', files.attacks.pdfWithJs())).toContain('JavaScriptなど');
    expect(await refused('様式.docx', '', files.docx(true))).toContain('マクロを含むファイル');
    expect(await refused('notes.txt', 'text/plain', files.attacks.html)).toContain('テキストとして登録できません');
    expect(await refused('data.csv', 'text/csv', await files.png())).toContain('中身はPNG形式');
    expect(await refused('data.csv', 'text/csv', Buffer.from([0x41, 0x00, 0x42]))).toContain('文字だけのファイル');
  });

  it('keeps Unicode names for display and drops paths, controls and reserved characters', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('..\\..\\windows\\会議録 (1).PDF')).toBe('会議録 (1).PDF');
    expect(safeFileName('.htaccess')).toBe('htaccess');
    expect(safeFileName('a\u0000b\u202ecod.exe.jpg')).toBe('abcod.exe.jpg');
    expect(safeFileName('x<script>.png')).toBe('x_script_.png');
    expect(safeFileName('')).toBe('file');
    expect(safeFileName(`${'長'.repeat(200)}.pdf`)).toMatch(/^長{116}\.pdf$/);
    expect(safeFileName('ｶﾞｲﾄﾞ.pdf')).toBe('ｶﾞｲﾄﾞ.pdf'.normalize('NFC'));
    expect(extensionOf('A.Tar.GZ')).toBe('gz');
  });

  it('writes sizes as link texts do', () => {
    expect(formatBytes(1_258_291)).toBe('1.2MB');
    expect(formatBytes(250_000)).toBe('244KB');
    expect(formatBytes(2 * 1024 * 1024)).toBe('2MB');
    expect(formatBytes(900)).toBe('900バイト');
  });
});

describe('image processing', () => {
  it('turns the photo upright, removes EXIF (GPS, camera) and makes widths in the original format and WebP, never enlarged', async () => {
    const photo = await files.photoWithGps(2000, 1200);
    const before = await sharp(photo).metadata();
    expect(before.orientation).toBe(6);
    expect(before.exif?.includes(Buffer.from('GPS-9000'))).toBe(true);
    // The GPS IFD pointer (tag 0x8825) is there, in either byte order.
    expect(before.exif?.includes(Buffer.from([0x88, 0x25])) || before.exif?.includes(Buffer.from([0x25, 0x88]))).toBe(true);
    const r = await processImage(photo, (await inspectUpload('p.jpg', 'image/jpeg', photo)).type);
    // Orientation 6: stored 2000×1200, upright 1200×2000.
    expect([r.width, r.height]).toEqual([1200, 2000]);
    expect(r.variants.map((v) => `${v.key}:${v.mime}:${v.width}x${v.height}`)).toEqual([
      '480:image/jpeg:480x800',
      '480-webp:image/webp:480x800',
      '960:image/jpeg:960x1600',
      '960-webp:image/webp:960x1600',
      'original:image/jpeg:1200x2000',
      'original-webp:image/webp:1200x2000',
    ]);
    for (const v of r.variants) {
      const meta = await sharp(v.data).metadata();
      expect(meta.exif, v.key).toBeUndefined();
      expect(meta.orientation ?? 1, v.key).toBe(1);
      expect(v.data.includes(Buffer.from('GPS-9000')), v.key).toBe(false);
    }
    const small = await files.png(300, 200);
    const s = await processImage(small, (await inspectUpload('s.png', '', small)).type);
    expect(s.variants.map((v) => v.key)).toEqual(['original', 'original-webp']);
  });

  it('refuses an image whose pixels would not fit in memory (decompression bomb)', async () => {
    const bomb = await sharp({ create: { width: 10000, height: 7000, channels: 3, background: '#000' } }).png({ compressionLevel: 9 }).toBuffer();
    expect(bomb.length).toBeLessThan(1_000_000);
    await expect(processImage(bomb, (await inspectUpload('b.png', '', bomb)).type)).rejects.toThrow(/画素数が大きすぎます/);
  });
});

describe('references and public markup', () => {
  it('finds the library files a body and its fields name, and nothing in plain text', () => {
    const body = sanitizeBody('<p><img src="/media/12/original/a.jpg" alt="a"> /media/99/ <a href="/media/7/file/%E4%BC%9A.pdf">会議録（PDF：1MB）</a><a href="/sites/aoba/media/8/file/x.pdf">x（PDF：1KB）</a><img src="/media/13" alt="b"></p>');
    expect(mediaIdsIn(body, JSON.stringify({ ogImage: '/media/21/960/og.jpg', note: 'see media/22' })).sort((a, b) => a - b)).toEqual([7, 8, 12, 13, 21]);
  });

  it('a library image becomes <picture> with a WebP source, srcset, sizes and width/height; links get the site prefix', () => {
    const m: MediaForMarkup = {
      id: 12,
      kind: 'image',
      file_name: '桜.jpg',
      width: 1200,
      height: 800,
      variants: [
        { key: '480', mime: 'image/jpeg', width: 480, height: 320, bytes: 1 },
        { key: '480-webp', mime: 'image/webp', width: 480, height: 320, bytes: 1 },
        { key: '960', mime: 'image/jpeg', width: 960, height: 640, bytes: 1 },
        { key: '960-webp', mime: 'image/webp', width: 960, height: 640, bytes: 1 },
        { key: 'original', mime: 'image/jpeg', width: 1200, height: 800, bytes: 1 },
        { key: 'original-webp', mime: 'image/webp', width: 1200, height: 800, bytes: 1 },
      ],
    };
    const doc: MediaForMarkup = { id: 7, kind: 'document', file_name: 'a.pdf', width: null, height: null, variants: [{ key: 'file', mime: 'application/pdf', width: null, height: null, bytes: 1 }] };
    const body = sanitizeBody('<p><img src="/media/12/original/%E6%A1%9C.jpg" alt="桜&quot;並木"></p><p><a href="/media/7/file/a.pdf">会議録（PDF：1KB）</a></p><p><img src="/media/5" alt="他のサイト"></p>');
    const html = renderMediaInBody(body, '/sites/aoba', new Map([[12, m], [7, doc]]));
    const enc = encodeURIComponent('桜');
    expect(html).toContain(
      `<picture class="media-picture"><source type="image/webp" srcset="/sites/aoba/media/12/480-webp/${enc}.webp 480w, /sites/aoba/media/12/960-webp/${enc}.webp 960w, /sites/aoba/media/12/original-webp/${enc}.webp 1200w" sizes="(min-width: 72rem) 70rem, calc(100vw - 2rem)">`,
    );
    expect(html).toContain(`<img src="/sites/aoba/media/12/960/${enc}.jpg" srcset="/sites/aoba/media/12/480/${enc}.jpg 480w, /sites/aoba/media/12/960/${enc}.jpg 960w, /sites/aoba/media/12/original/${enc}.jpg 1200w"`);
    expect(html).toContain('width="1200" height="800" alt="桜&quot;並木" loading="lazy" decoding="async"></picture>');
    expect(html).toContain('<a href="/sites/aoba/media/7/file/a.pdf">');
    // Not this site's file: left alone.
    expect(html).toContain('<img src="/media/5" alt="他のサイト" />');
  });

  it('previews sign file addresses: the right file, unexpired, untampered', () => {
    const signer = new MediaUrlSigner('x'.repeat(40));
    const now = Date.parse('2026-04-01T00:00:00Z');
    const q = new URLSearchParams(signer.query(12, now).slice(1));
    expect(signer.valid(12, q.get('exp') ?? undefined, q.get('sig') ?? undefined, now)).toBe(true);
    expect(signer.valid(13, q.get('exp') ?? undefined, q.get('sig') ?? undefined, now)).toBe(false);
    expect(signer.valid(12, q.get('exp') ?? undefined, q.get('sig') ?? undefined, now + 2 * 3600_000)).toBe(false);
    expect(signer.valid(12, String(Number(q.get('exp')) + 600), q.get('sig') ?? undefined, now)).toBe(false);
    expect(new MediaUrlSigner('y'.repeat(40)).valid(12, q.get('exp') ?? undefined, q.get('sig') ?? undefined, now)).toBe(false);
    const doc: MediaForMarkup = { id: 7, kind: 'document', file_name: 'a.pdf', width: null, height: null, variants: [{ key: 'file', mime: 'application/pdf', width: null, height: null, bytes: 1 }] };
    const html = renderMediaInBody('<p><a href="/media/7/file/a.pdf?x=1#page=2">会議録（PDF：1KB）</a></p>', '/s', new Map([[7, doc]]), () => '?exp=1&sig=abc');
    expect(html).toBe('<p><a href="/s/media/7/file/a.pdf?exp=1&amp;sig=abc#page=2">会議録（PDF：1KB）</a></p>');
  });

  it('document link texts name the type and size, so the accessibility checker passes them', () => {
    for (const [ext, bytes] of [['pdf', 1_258_291], ['docx', 30_000], ['xlsx', 2_000], ['pptx', 5_000_000], ['odt', 10_000], ['ods', 10_000], ['csv', 999]] as const) {
      const text = documentLinkText({ title: '', file_name: `会議録.${ext}`, extension: ext, bytes });
      const issues = checkAccessibility(`<h2>資料</h2><p><a href="/media/1/file/x.${ext}">${text}</a></p>`);
      expect(issues.filter((i) => i.severity === 'error'), `${ext}: ${text}`).toEqual([]);
    }
    expect(documentLinkText({ title: '会議録', file_name: 'x.pdf', extension: 'pdf', bytes: 1_258_291 })).toBe('会議録（PDF：1.2MB）');
  });
});
