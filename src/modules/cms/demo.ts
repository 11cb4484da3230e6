import type { Platform } from '../../core/platform.js';
import type { Actor } from '../../core/permissions/index.js';
import type { CmsServices } from './index.js';

const meta = { ip: 'console', userAgent: 'demo content' };

interface DemoNode {
  slug: string;
  title: string;
  summary?: string;
  body: string;
  children?: DemoNode[];
}

/** A lively fictional city site (あおば市), published, so the first start shows something real. */
const tree: DemoNode[] = [
  {
    slug: 'kurashi',
    title: 'くらし・手続き',
    body: '<p>住民票、税、ごみ、子育てなど、暮らしに関する情報です。</p>',
    children: [
      {
        slug: 'gomi',
        title: 'ごみの出し方と収集日',
        summary: '地区ごとの収集日と、分別のしかたをご案内します。',
        body: '<h2>収集日</h2><table><caption>地区別の収集日</caption><thead><tr><th scope="col">地区</th><th scope="col">燃やすごみ</th><th scope="col">資源ごみ</th></tr></thead><tbody><tr><td>中央地区</td><td>月曜日・木曜日</td><td>水曜日</td></tr><tr><td>北地区</td><td>火曜日・金曜日</td><td>木曜日</td></tr></tbody></table><h2>出すときの注意</h2><ul><li>収集日の朝8時30分までに出してください。</li><li>指定袋を使ってください。</li></ul>',
      },
      {
        slug: 'juminhyo',
        title: '住民票の写しの請求',
        summary: '窓口、郵送、コンビニエンスストアで請求できます。',
        body: '<p>住民票の写しは、市民課の窓口（平日 8時30分から17時15分）のほか、マイナンバーカードを使ってコンビニエンスストアでも取得できます。</p><h2>手数料</h2><p>1通 300円です。</p>',
      },
    ],
  },
  {
    slug: 'bousai',
    title: '防災・安全',
    body: '<p>災害への備えと、避難所の情報です。</p>',
    children: [
      {
        slug: 'hinanjo',
        title: '指定避難所の一覧',
        summary: '市内の指定避難所と指定緊急避難場所です。',
        body: '<p>大雨や地震のときに開設する避難所です。開設状況は防災メールでお知らせします。</p><ul><li>あおば中央小学校 体育館</li><li>あおば市民センター</li><li>北地区コミュニティセンター</li></ul>',
      },
    ],
  },
  {
    slug: 'kankou',
    title: '観光・イベント',
    body: '<p>あおば市の見どころと季節のイベントです。</p>',
    children: [
      {
        slug: 'sakura-matsuri',
        title: 'あおば川さくらまつり',
        summary: '毎年4月上旬、あおば川沿いの約800本の桜がライトアップされます。',
        body: '<p>あおば川沿いの約800本の桜並木で開かれる、市内最大の春のまつりです。夜は18時から21時までライトアップします。</p><h2>会場</h2><p>あおば川河川敷公園（あおば駅から徒歩10分）</p>',
      },
    ],
  },
];

export async function seedDemoSite(p: Platform, cms: CmsServices, actor: Actor): Promise<void> {
  const existing = await p.db.selectFrom('cms_sites').select('id').limit(1).executeTakeFirst();
  if (existing) return;
  const city = await p.db.selectFrom('organizations').select('id').where('code', '=', '992011').executeTakeFirst();
  const siteId = await cms.sites.create(
    actor,
    {
      key: 'aoba',
      name: 'あおば市',
      nameEn: 'Aoba City',
      organizationId: city?.id ?? null,
      settings: {
        themeColor: '#0031d8',
        headerMenu: [
          { label: 'くらし・手続き', href: '/kurashi/' },
          { label: '防災・安全', href: '/bousai/' },
          { label: '観光・イベント', href: '/kankou/' },
        ],
        footerMenu: [],
        footerText: 'あおば市役所　〒000-0000 みどり県あおば市中央1-1　電話 000-000-0000（平日 8時30分～17時15分）',
      },
    },
    meta,
  );
  const root = await cms.pages.root(siteId);
  await cms.pages.saveDraft(actor, root.id, { title: 'あおば市', body: '<p class="lead">みどり県の北、あおば川の流れるまち。暮らしの手続きから防災、観光まで、市の情報をお届けします。</p>' }, meta);
  await cms.pages.publish(actor, root.id, meta);
  const add = async (parentId: number, nodes: DemoNode[]) => {
    for (const [i, n] of nodes.entries()) {
      const id = await cms.pages.create(
        actor,
        { siteId, parentId, kind: n.children ? 'folder' : 'page', slug: n.slug, title: n.title, body: n.body, summary: n.summary, sortOrder: i },
        meta,
      );
      await cms.pages.publish(actor, id, meta);
      if (n.children) await add(id, n.children);
    }
  };
  await add(root.id, tree);
}
