import sharp from 'sharp';
import type { Platform } from '../../../core/platform.js';
import { consoleActor } from '../../../core/permissions/index.js';
import type { CmsServices } from '../index.js';
import { bodyUrl, documentLinkText } from './markup.js';
import type { MediaService } from './service.js';

const meta = { ip: 'console', userAgent: 'demo content' };

/** A landscape made of shapes only (no text), drawn by sharp from SVG on the server. */
function scene(sky: [string, string], ground: string, sun: string, extra: string): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1800" height="1200" viewBox="0 0 1800 1200">
<defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${sky[0]}"/><stop offset="1" stop-color="${sky[1]}"/></linearGradient></defs>
<rect width="1800" height="1200" fill="url(#s)"/><circle cx="1380" cy="300" r="140" fill="${sun}"/>
<path d="M0 820 Q450 620 900 800 T1800 760 V1200 H0 Z" fill="${ground}"/>${extra}</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

/** A one-page PDF written by hand (shapes only), with a correct cross-reference table. */
export function demoPdf(): Buffer {
  const content = '0.85 0.92 1 rg 50 650 495 120 re f 0.2 0.4 0.8 rg 80 680 60 60 re f 0.3 0.6 0.3 rg 170 680 300 20 re f 170 720 200 20 re f';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/**
 * Demo files for あおば市: two landscape photos on the cherry-blossom festival page and a PDF on
 * the waste page, so the first start shows <picture>, WebP and a document link. Runs once.
 */
export async function seedDemoMedia(p: Platform, cms: CmsServices, media: MediaService): Promise<void> {
  const site = (await cms.sites.all()).find((s) => s.key === 'aoba');
  if (!site) return;
  if (await p.db.selectFrom('cms_media').select('id').where('site_id', '=', site.id).limit(1).executeTakeFirst()) return;
  const actor = consoleActor(p.permissions);
  const upload = async (fileName: string, data: Buffer, details: { alt?: string; title?: string }) =>
    media.upload(actor, { siteId: site.id, fileName, claimedMime: '', data, ...details }, meta);

  const river = await upload(
    'sakura-river.jpg',
    await scene(['#9ccaf0', '#fde7f0'], '#5f9f6a', '#fff6c9', '<g fill="#f6b6cc">' + Array.from({ length: 9 }, (_, i) => `<circle cx="${120 + i * 200}" cy="${700 - (i % 3) * 30}" r="${90 + (i % 2) * 25}"/>`).join('') + '</g><path d="M0 980 Q900 900 1800 990 V1200 H0 Z" fill="#4a86c5"/>'),
    { alt: 'あおば川沿いに満開の桜並木が続く様子（イラスト）' },
  );
  const night = await upload(
    'sakura-night.jpg',
    await scene(['#1b2a4a', '#43386b'], '#2f4a3a', '#f3f0d8', '<g fill="#ffd1e0">' + Array.from({ length: 7 }, (_, i) => `<circle cx="${200 + i * 230}" cy="720" r="100"/>`).join('') + '</g><g fill="#ffe28a">' + Array.from({ length: 12 }, (_, i) => `<rect x="${80 + i * 140}" y="860" width="18" height="60"/>`).join('') + '</g>'),
    { alt: '夜のライトアップで桜が照らされた河川敷（イラスト）' },
  );
  const pdf = await upload('gomi-calendar.pdf', demoPdf(), { title: 'ごみ収集カレンダー' });

  const addTo = async (path: string, html: string) => {
    const node = await p.db.selectFrom('cms_nodes').selectAll().where('site_id', '=', site.id).where('path', '=', path).executeTakeFirst();
    if (!node) return;
    const version = await cms.pages.version(node.draft_version_id ?? node.published_version_id);
    if (!version) return;
    await cms.pages.saveDraft(actor, node.id, { title: version.title, summary: version.summary ?? undefined, body: version.body_html + html, fields: JSON.parse(version.fields) as Record<string, unknown> }, meta);
    await cms.pages.publish(actor, node.id, meta);
  };
  const img = (m: typeof river) => `<img src="${bodyUrl(m)}" alt="${m.alt}" width="${m.width}" height="${m.height}">`;
  await addTo('/kankou/sakura-matsuri', `<h2>会場のようす</h2><p>${img(river)}</p><p>${img(night)}</p>`);
  await addTo('/kurashi/gomi', `<h2>収集カレンダー</h2><p><a href="${bodyUrl(pdf)}">${documentLinkText(pdf)}</a></p>`);
}
