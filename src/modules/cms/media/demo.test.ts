import { expect, it } from 'vitest';
import { seedDemoContent } from '../../../main.js';
import { describePlatform } from '../../../../test/helpers/engines.js';
import { HttpClient } from '../../../../test/helpers/http-client.js';
import { checkAccessibility } from '../content/index.js';

describePlatform('CMS media demo content', {}, (tp) => {
  it('the demo city shows generated photos as <picture> with WebP and links a hand-written PDF; seeding twice adds nothing', async () => {
    const p = tp().platform;
    await seedDemoContent(p);
    await seedDemoContent(p);
    const rows = await p.db.selectFrom('cms_media').select(['file_name', 'kind', 'width', 'alt']).orderBy('id').execute();
    expect(rows.map((r) => r.file_name)).toEqual(['sakura-river.jpg', 'sakura-night.jpg', 'gomi-calendar.pdf']);
    expect(rows[0]).toMatchObject({ kind: 'image', width: 1800 });
    const visitor = new HttpClient(tp().baseUrl);
    const festival = await visitor.get('/kankou/sakura-matsuri');
    expect(festival.status).toBe(200);
    expect(festival.text.match(/<picture class="media-picture"><source type="image\/webp"/g)?.length).toBe(2);
    const src = /<img src="([^"]+)" srcset/.exec(festival.text)?.[1];
    const image = await fetch(`${tp().baseUrl}${src}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    const gomi = await visitor.get('/kurashi/gomi');
    const href = /<a href="(\/media\/\d+\/file\/gomi-calendar\.pdf)">ごみ収集カレンダー（PDF：\d+バイト）<\/a>/.exec(gomi.text)?.[1];
    expect(href).toBeDefined();
    const pdf = await fetch(`${tp().baseUrl}${href}`);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect((await pdf.text()).startsWith('%PDF-1.4')).toBe(true);
    const body = /<div class="page-body">([\s\S]*?)<\/div>/.exec(gomi.text)?.[1] ?? '';
    expect(checkAccessibility(body).filter((i) => i.severity === 'error')).toEqual([]);
  });
});
