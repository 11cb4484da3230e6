/**
 * Real files for the media tests, made on the spot: photos with EXIF GPS, office documents (a
 * stored ZIP written here, as Word and LibreOffice lay them out), and the attack files.
 */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import iconv from 'iconv-lite';
import { demoPdf } from './demo.js';

/** A photo with a GPS position and a camera model in its EXIF, stored turned (orientation 6). */
export async function photoWithGps(width = 2000, height = 1200): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 30, g: 120, b: 200 } } })
    .composite([{ input: { create: { width: Math.round(width / 4), height: Math.round(height / 4), channels: 3, background: { r: 250, g: 200, b: 0 } } }, top: 10, left: 10 }])
    .withMetadata({ orientation: 6 })
    .withExif({ IFD0: { Make: 'TestCam', Model: 'GPS-9000' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '35/1 41/1 22/1', GPSLongitudeRef: 'E', GPSLongitude: '139/1 41/1 30/1' } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

export const png = (width = 300, height = 200) => sharp({ create: { width, height, channels: 4, background: { r: 0, g: 160, b: 80, alpha: 1 } } }).png().toBuffer();
export const gif = () => sharp({ create: { width: 120, height: 80, channels: 3, background: '#c33' } }).gif().toBuffer();
export const webp = () => sharp({ create: { width: 640, height: 480, channels: 3, background: '#3c3' } }).webp().toBuffer();
export const smallJpeg = () => sharp({ create: { width: 64, height: 48, channels: 3, background: '#888' } }).jpeg().toBuffer();

export const pdf = demoPdf;

/** A ZIP with stored (uncompressed) entries. */
export function zip(files: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const n = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    parts.push(local, n, data);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(n.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, n);
    offset += 30 + n.length + data.length;
  }
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, dir, end]);
}

const contentTypes = (part: string, type: string, extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="${part}" ContentType="${type}"/>${extra}</Types>`;

export const docx = (withMacros = false) =>
  zip({
    '[Content_Types].xml': contentTypes('/word/document.xml', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml'),
    'word/document.xml': '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>会議録</w:t></w:r></w:p></w:body></w:document>',
    ...(withMacros ? { 'word/vbaProject.bin': Buffer.from([0xd0, 0xcf, 0x11, 0xe0]) } : {}),
  });

export const odt = () => zip({ mimetype: 'application/vnd.oasis.opendocument.text', 'content.xml': '<office:document-content/>' });

/** Excel's CSV on Japanese Windows: Shift_JIS. */
export const sjisCsv = () => iconv.encode('地区,曜日\r\n北地区,月・木\r\n', 'Shift_JIS');

export const attacks = {
  php: Buffer.from('<?php system($_GET["c"]); ?>\n'),
  html: Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>'),
  svg: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'),
  /** A real JPEG with a script glued after it (renders as an image, parses as HTML). */
  async jpegWithHtml() {
    return Buffer.concat([await smallJpeg(), Buffer.from('<html><script>alert(document.domain)</script></html>')]);
  },
  /** A real JPEG with a ZIP (a JAR) glued after it: GIFAR-style polyglot. */
  async jpegWithZip() {
    return Buffer.concat([await smallJpeg(), zip({ 'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\n', 'Evil.class': Buffer.from([0xca, 0xfe, 0xba, 0xbe]) })]);
  },
  pdfWithJs: () => Buffer.from(demoPdf().toString('latin1').replace('<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>'), 'latin1'),
};
