import { consoleActor, type Actor } from '../../../core/permissions/index.js';
import type { Platform } from '../../../core/platform.js';
import type { CmsServices } from '../index.js';
import { categoriesOf } from './categories.js';
import { contactsOf } from './contacts.js';
import { formatDateJa } from './format.js';
import { addDays, type ArticleFields, type EventFields, type NewsFields, type SpotFields, type VideoFields } from './fields.js';

const meta = { ip: 'console', userAgent: 'demo content' };

/** Today in Japan, so the demo's events are always around the time it is installed. */
function todayJst(): string {
  return new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);
}

const CATEGORIES: Array<{ slug: string; name: string; description?: string; children?: Array<{ slug: string; name: string }> }> = [
  { slug: 'kurashi', name: 'くらし・手続き', description: '届出・証明書、税金、ごみなど暮らしの情報です。', children: [{ slug: 'gomi', name: 'ごみ・リサイクル' }, { slug: 'zeikin', name: '税金' }] },
  { slug: 'kosodate', name: '子育て・教育', description: '妊娠・出産から子育て、学校までの情報です。' },
  { slug: 'kenko', name: '健康・福祉' },
  { slug: 'kanko', name: '観光・文化', description: 'あおば市の見どころ、イベント、文化・スポーツの情報です。', children: [{ slug: 'ibento', name: 'イベント' }] },
  { slug: 'bosai', name: '防災・安全', description: '災害への備え、避難所、防犯の情報です。' },
  { slug: 'shisetsu', name: '施設案内' },
];

const DEPARTMENTS = [
  { code: '992011-kanko', name: 'あおば市 観光課', nameEn: 'Tourism Division' },
  { code: '992011-kosodate', name: 'あおば市 子育て支援課', nameEn: 'Child Support Division' },
];

const CONTACTS: Record<string, { phone: string; fax?: string; email: string; address: string; hours: string }> = {
  '992011': { phone: '000-000-0000', email: 'info@city.aoba.example.lg.jp', address: '〒000-0000 みどり県あおば市中央1-1', hours: '平日 8時30分～17時15分' },
  '992011-soumu': { phone: '000-000-1111', fax: '000-000-1112', email: 'soumu@city.aoba.example.lg.jp', address: 'あおば市役所 本庁舎3階', hours: '平日 8時30分～17時15分' },
  '992011-kouhou': { phone: '000-000-1121', fax: '000-000-1122', email: 'kouhou@city.aoba.example.lg.jp', address: 'あおば市役所 本庁舎3階', hours: '平日 8時30分～17時15分' },
  '992011-kiki': { phone: '000-000-1131', fax: '000-000-1132', email: 'kikikanri@city.aoba.example.lg.jp', address: 'あおば市役所 本庁舎4階', hours: '平日 8時30分～17時15分（災害時は24時間）' },
  '992011-kanko': { phone: '000-000-1141', email: 'kanko@city.aoba.example.lg.jp', address: 'あおば市役所 別館1階', hours: '平日 8時30分～17時15分' },
  '992011-kosodate': { phone: '000-000-1151', fax: '000-000-1152', email: 'kosodate@city.aoba.example.lg.jp', address: 'あおば市役所 本庁舎1階 8番窓口', hours: '平日 8時30分～17時15分（第2・第4土曜日 9時～12時）' },
};

interface DemoPage {
  slug: string;
  type: string;
  title: string;
  summary?: string;
  body: string;
  /** Category slugs. */
  cats: string[];
  tags?: string[];
  /** Organisation code of the 担当課. */
  dept: string;
  fields: Record<string, unknown>;
}

const spot = (s: Partial<SpotFields> & Pick<SpotFields, 'address' | 'lat' | 'lng'>): { spot: SpotFields } => ({
  spot: { hours: '', weeklyHours: [], closedDays: '', phone: '', url: '', accessibility: '', ...s },
});
const weekdays9to17 = (days: number[], open = '09:00', close = '17:00') => days.map((weekday) => ({ weekday, open, close }));

function pages(today: string): Record<string, { folder: { slug: string; title: string; body: string }; pages: DemoPage[] }> {
  const d = (n: number) => addDays(today, n);
  const news = (n: Partial<NewsFields>): { news: NewsFields } => ({ news: { important: false, urgent: false, endHint: null, ...n } });
  const event = (e: Partial<EventFields> & Pick<EventFields, 'dates'>): { event: EventFields } => ({
    event: { startTime: null, endTime: null, venue: '', address: '', lat: null, lng: null, fee: '', target: '', application: '', contact: '', ...e },
  });
  const article = (a: Partial<ArticleFields>): { article: ArticleFields } => ({ article: { lead: '', author: '', interviewee: '', photoCredit: '', ...a } });
  const video = (v: Partial<VideoFields> & Pick<VideoFields, 'url'>): { video: VideoFields } => ({ video: { durationSeconds: null, description: '', transcript: '', ...v } });
  return {
    news: {
      folder: { slug: 'oshirase', title: 'お知らせ', body: '<p>市からのお知らせです。</p>' },
      pages: [
        { slug: 'kasen-heisa', type: 'news', title: 'あおば川の増水により河川敷公園を閉鎖しています', summary: '大雨によるあおば川の増水のため、河川敷公園への立ち入りを禁止しています。', body: '<p>大雨によるあおば川の増水のため、あおば川河川敷公園を閉鎖しています。水位が下がり、安全が確認できるまで立ち入らないでください。</p><h2>閉鎖している場所</h2><ul><li>あおば川河川敷公園（全域）</li><li>河川敷の駐車場</li></ul>', cats: ['bosai'], tags: ['大雨', '河川'], dept: '992011-kiki', fields: news({ urgent: true, endHint: d(7) }) },
        { slug: 'shiminzei-tsuchi', type: 'news', title: '市民税・県民税の納税通知書を発送しました', summary: '今年度の市民税・県民税（普通徴収）の納税通知書を発送しました。', body: '<p>今年度の市民税・県民税（普通徴収）の納税通知書を発送しました。第1期の納期限は6月30日です。</p><p>口座振替・コンビニエンスストア・スマートフォン決済で納められます。</p>', cats: ['zeikin'], tags: ['市民税', '納付'], dept: '992011-soumu', fields: news({ important: true, endHint: d(60) }) },
        { slug: 'sodai-gomi-net', type: 'news', title: '粗大ごみのインターネット受付を始めました', summary: '24時間いつでも粗大ごみの収集を申し込めます。', body: '<p>粗大ごみの収集申込みを、インターネットで24時間受け付けます。電話受付（平日 8時30分～17時）も引き続きご利用いただけます。</p>', cats: ['gomi'], tags: ['粗大ごみ'], dept: '992011-soumu', fields: news({}) },
        { slug: 'shien-center-kyukan', type: 'news', title: '子育て支援センターの臨時休館について', summary: '設備点検のため、子育て支援センターを臨時休館します。', body: `<p>設備点検のため、${formatDateJa(d(10))}はあおば市子育て支援センターを臨時休館します。ご迷惑をおかけします。</p>`, cats: ['kosodate'], tags: ['子育て支援センター'], dept: '992011-kosodate', fields: news({ endHint: d(11) }) },
        { slug: 'line-kaishi', type: 'news', title: 'あおば市公式LINEを始めました', summary: 'ごみの収集日や防災情報をLINEでお届けします。', body: '<p>あおば市公式LINEアカウントを開設しました。ごみの収集日のお知らせ、防災情報、イベント情報を受け取れます。</p>', cats: ['kurashi'], tags: ['LINE', '広報'], dept: '992011-kouhou', fields: news({}) },
        { slug: 'mynumber-kyujitsu', type: 'news', title: 'マイナンバーカードの休日受取窓口を開設します', summary: '毎月第2・第4日曜日に、マイナンバーカードの受取窓口を開きます。', body: '<p>平日に来庁できない方のため、毎月第2・第4日曜日の9時から12時まで、市民課でマイナンバーカードをお渡しします。予約が必要です。</p>', cats: ['kurashi'], tags: ['マイナンバーカード'], dept: '992011', fields: news({}) },
        { slug: 'bosai-kunren-boshu', type: 'news', title: '総合防災訓練の参加者を募集しています', summary: '地域ぐるみの防災訓練に参加しませんか。', body: '<p>市の総合防災訓練に参加する市民の皆さんを募集しています。避難所の開設や炊き出しを体験できます。</p>', cats: ['bosai'], tags: ['防災訓練'], dept: '992011-kiki', fields: news({ endHint: d(30) }) },
      ],
    },
    event: {
      folder: { slug: 'event', title: 'イベント情報', body: '<p>市内で開かれるイベントです。</p>' },
      pages: [
        { slug: 'hanabi', type: 'event', title: 'あおば川花火大会', summary: 'あおば川の夜空に約5,000発の花火が上がります。', body: '<p>夏の夜空を彩る、あおば市最大の花火大会です。会場周辺は交通規制があります。公共交通機関でお越しください。</p>', cats: ['ibento'], tags: ['花火', '夏'], dept: '992011-kanko', fields: event({ dates: { kind: 'single', date: d(40) }, startTime: '19:00', endTime: '20:30', venue: 'あおば川河川敷公園', address: 'みどり県あおば市川岸町2丁目', lat: 35.6201, lng: 140.125, fee: '無料（有料観覧席あり）', target: 'どなたでも', application: '申込み不要', contact: 'あおば市 観光課 000-000-1141' }) },
        { slug: 'sangyo-matsuri', type: 'event', title: 'あおば産業まつり', summary: '市内の農産物や特産品が集まる2日間のおまつりです。', body: '<p>あおば梨をはじめとする農産物、商店街の特産品、ステージイベントが楽しめます。</p>', cats: ['ibento'], tags: ['特産品', '梨'], dept: '992011-kanko', fields: event({ dates: { kind: 'range', from: d(20), to: d(21) }, startTime: '10:00', endTime: '16:00', venue: 'あおば中央公園', address: 'みどり県あおば市中央3丁目', lat: 35.601, lng: 140.1205, fee: '入場無料', target: 'どなたでも', application: '申込み不要', contact: 'あおば産業まつり実行委員会（観光課内）000-000-1141' }) },
        { slug: 'oyako-yoga', type: 'event', title: '親子ヨガ教室（毎週火曜日・木曜日）', summary: '子育て支援センターで、親子で楽しめるヨガ教室を開きます。', body: '<p>赤ちゃんと一緒に体を動かしましょう。ヨガマットは貸し出します。</p>', cats: ['kosodate', 'kenko'], tags: ['ヨガ', '親子'], dept: '992011-kosodate', fields: event({ dates: { kind: 'weekly', from: d(-14), to: d(90), weekdays: [2, 4] }, startTime: '10:00', endTime: '11:00', venue: 'あおば市子育て支援センター 多目的室', address: 'みどり県あおば市若葉2丁目5-1', lat: 35.6047, lng: 140.0975, fee: '無料', target: '市内在住の生後3か月から1歳6か月までのお子さんと保護者', application: '前日までに子育て支援センターへ電話で予約してください（各回10組）。', contact: 'あおば市子育て支援センター 000-000-1155' }) },
        { slug: 'bosai-kunren', type: 'event', title: 'あおば市総合防災訓練', summary: '避難所開設・炊き出し・消火体験を行います。', body: '<p>地震を想定した総合防災訓練を行います。どなたでも参加できます。</p>', cats: ['bosai'], tags: ['防災訓練'], dept: '992011-kiki', fields: event({ dates: { kind: 'single', date: d(30) }, startTime: '09:00', endTime: '12:00', venue: 'あおば中央小学校', address: 'みどり県あおば市中央2丁目10-1', lat: 35.6092, lng: 140.1131, fee: '無料', target: 'どなたでも', application: '申込み不要（当日会場へお越しください）', contact: 'あおば市 危機管理課 000-000-1131' }) },
        { slug: 'ohanashi-kai', type: 'event', title: '図書館おはなし会', summary: '絵本の読み聞かせと手遊びを楽しみます。', body: '<p>ボランティアの皆さんによる絵本の読み聞かせです。</p>', cats: ['kosodate'], tags: ['図書館', '絵本'], dept: '992011-kosodate', fields: event({ dates: { kind: 'list', dates: [d(5), d(19), d(33), d(47)] }, startTime: '14:00', endTime: '14:30', venue: 'あおば市立中央図書館 おはなしの部屋', address: 'みどり県あおば市本町1丁目8-3', lat: 35.612, lng: 140.115, fee: '無料', target: '3歳から小学校低学年のお子さんと保護者', application: '申込み不要', contact: 'あおば市立中央図書館 000-000-2200' }) },
      ],
    },
    spot: {
      folder: { slug: 'spot', title: '施設・スポット', body: '<p>市内の公共施設と見どころです。</p>' },
      pages: [
        { slug: 'shiyakusho', type: 'spot', title: 'あおば市役所', body: '<p>市役所の本庁舎です。</p>', cats: ['shisetsu'], dept: '992011-soumu', fields: spot({ address: 'みどり県あおば市中央1-1', lat: 35.6073, lng: 140.1063, hours: '平日 8時30分～17時15分', weeklyHours: weekdays9to17([1, 2, 3, 4, 5], '08:30', '17:15'), closedDays: '土曜日・日曜日・祝日、年末年始（12月29日～1月3日）', phone: '000-000-0000', accessibility: '車いす用トイレ（各階）、エレベーター、障害者用駐車場4台、補助犬可、筆談ボードあり' }) },
        { slug: 'chuo-toshokan', type: 'spot', title: 'あおば市立中央図書館', body: '<p>約30万冊の本がある市の中央図書館です。</p>', cats: ['shisetsu', 'kosodate'], dept: '992011-kosodate', fields: spot({ address: 'みどり県あおば市本町1丁目8-3', lat: 35.612, lng: 140.115, hours: '火曜日～金曜日 9時～19時、土曜日・日曜日・祝日 9時～17時', weeklyHours: [...weekdays9to17([2, 3, 4, 5], '09:00', '19:00'), ...weekdays9to17([0, 6])], closedDays: '月曜日（祝日の場合は翌日）、毎月最終木曜日、年末年始', phone: '000-000-2200', accessibility: '車いす用トイレ、エレベーター、拡大読書器、対面朗読室' }) },
        { slug: 'chuo-koen', type: 'spot', title: 'あおば中央公園', body: '<p>芝生広場と遊具がある、市の中心の公園です。</p>', cats: ['shisetsu', 'kanko'], dept: '992011-kanko', fields: spot({ address: 'みどり県あおば市中央3丁目', lat: 35.601, lng: 140.1205, hours: '終日開放', phone: '000-000-1141', accessibility: '園路は段差なし、多目的トイレ2か所' }) },
        { slug: 'shimin-center', type: 'spot', title: 'あおば市民センター', body: '<p>ホール・会議室・調理室がある市民活動の拠点です。指定避難所です。</p>', cats: ['shisetsu', 'bosai'], dept: '992011-soumu', fields: spot({ address: 'みどり県あおば市緑町4丁目2-1', lat: 35.6155, lng: 140.1008, hours: '9時～21時', weeklyHours: weekdays9to17([0, 1, 2, 3, 4, 5, 6], '09:00', '21:00'), closedDays: '第3月曜日、年末年始', phone: '000-000-3300', accessibility: '車いす用トイレ、エレベーター、ヒアリングループ（ホール）' }) },
        { slug: 'kyodo-shiryokan', type: 'spot', title: 'あおば市郷土資料館', body: '<p>あおば川流域の歴史と民俗を紹介する資料館です。</p>', cats: ['shisetsu', 'kanko'], dept: '992011-kanko', fields: spot({ address: 'みどり県あおば市古町1丁目3-7', lat: 35.5962, lng: 140.1122, hours: '9時～16時30分（入館は16時まで）', weeklyHours: weekdays9to17([0, 2, 3, 4, 5, 6], '09:00', '16:30'), closedDays: '月曜日、祝日の翌日、年末年始', phone: '000-000-4400', url: 'https://www.city.aoba.example.lg.jp/shiryokan/', accessibility: '1階のみ車いすで見学できます（2階は階段のみ）。車いすの貸出あり。' }) },
        { slug: 'kasenjiki-koen', type: 'spot', title: 'あおば川河川敷公園', body: '<p>桜並木と広いグラウンドがある河川敷の公園です。</p>', cats: ['kanko'], dept: '992011-kanko', fields: spot({ address: 'みどり県あおば市川岸町2丁目', lat: 35.6201, lng: 140.125, hours: '終日開放（増水時は閉鎖）', phone: '000-000-1141', accessibility: '河川敷へはスロープあり。多目的トイレ1か所。' }) },
        { slug: 'kita-community', type: 'spot', title: '北地区コミュニティセンター', body: '<p>北地区の集会施設です。指定避難所です。</p>', cats: ['shisetsu', 'bosai'], dept: '992011-soumu', fields: spot({ address: 'みどり県あおば市北町5丁目1-1', lat: 35.6288, lng: 140.1089, hours: '9時～21時', closedDays: '毎週月曜日、年末年始', phone: '000-000-5500', accessibility: '車いす用トイレ、スロープ' }) },
        { slug: 'kosodate-shien-center', type: 'spot', title: 'あおば市子育て支援センター', body: '<p>乳幼児と保護者が自由に遊べる施設です。子育て相談も受け付けます。</p>', cats: ['shisetsu', 'kosodate'], dept: '992011-kosodate', fields: spot({ address: 'みどり県あおば市若葉2丁目5-1', lat: 35.6047, lng: 140.0975, hours: '9時～16時', weeklyHours: weekdays9to17([1, 2, 3, 4, 5, 6], '09:00', '16:00'), closedDays: '日曜日・祝日、年末年始', phone: '000-000-1155', accessibility: 'ベビーカー置き場、授乳室、おむつ交換台、多目的トイレ' }) },
        { slug: 'shimin-pool', type: 'spot', title: 'あおば市民プール', body: '<p>25メートルプールと幼児用プールがある屋内プールです。</p>', cats: ['shisetsu', 'kenko'], dept: '992011-soumu', fields: spot({ address: 'みどり県あおば市南町6丁目3-2', lat: 35.5911, lng: 140.1301, hours: '10時～20時（日曜日・祝日は18時まで）', closedDays: '毎週木曜日、年末年始', phone: '000-000-6600', accessibility: '入水用スロープ、車いす用更衣室' }) },
        { slug: 'michinoeki', type: 'spot', title: '道の駅あおば', body: '<p>あおば梨や地元野菜の直売所がある道の駅です。</p>', cats: ['kanko'], dept: '992011-kanko', fields: spot({ address: 'みどり県あおば市東野町1000', lat: 35.585, lng: 140.1402, hours: '9時～18時', weeklyHours: weekdays9to17([0, 1, 2, 3, 4, 5, 6], '09:00', '18:00'), closedDays: '1月1日～3日', phone: '000-000-7700', accessibility: '障害者用駐車場、多目的トイレ、授乳室' }) },
      ],
    },
    articles: {
      folder: { slug: 'tokushu', title: '特集・インタビュー', body: '<p>あおば市で活躍する人と、まちの魅力を紹介します。</p>' },
      pages: [
        { slug: 'nashi-nouka', type: 'interview', title: '三代続く梨農家に聞く「あおば梨」のおいしさ', summary: '祖父の代から梨を育てる山田さんに、あおば梨づくりの一年を伺いました。', body: '<h2>梨づくりを始めたきっかけは？</h2><p>祖父の代からこの土地で梨を育てています。子どもの頃から収穫を手伝っていて、自然に継ぐことを決めました。</p><h2>一年でいちばん忙しいのはいつですか？</h2><p>4月の受粉と、8月から9月の収穫です。花が咲く時期は、一輪ずつ手で受粉させます。</p><h2>おすすめの食べ方は？</h2><p>冷やしすぎず、食べる1時間前に冷蔵庫へ入れると甘さがよく分かります。</p>', cats: ['kanko'], tags: ['梨', '農業'], dept: '992011-kouhou', fields: article({ lead: 'あおば市東野地区で三代続く梨農家、山田さん。夏の終わりに旬を迎える「あおば梨」について伺いました。', interviewee: 'やまだ農園 山田 花子さん', author: 'あおば市 広報課', photoCredit: 'やまだ農園' }) },
        { slug: 'rekishi-sanpo', type: 'article', title: 'あおば川沿いの歴史散歩', summary: '郷土資料館から河川敷公園まで、川沿いの史跡を歩きます。', body: '<p>あおば川は、江戸時代に舟運で栄えた川です。郷土資料館を出発して、川沿いの史跡を巡る約3キロの散歩コースを紹介します。</p><h2>河岸跡</h2><p>かつて米や薪を積み出した河岸の石段が残っています。</p><h2>桜並木</h2><p>明治時代に植えられた桜並木は、今も春の名所です。</p>', cats: ['kanko'], tags: ['歴史', '散歩'], dept: '992011-kanko', fields: article({ lead: '郷土資料館の学芸員と一緒に、あおば川沿いの史跡を歩きました。', author: 'あおば市郷土資料館 学芸員', photoCredit: 'あおば市郷土資料館' }) },
      ],
    },
    videos: {
      folder: { slug: 'douga', title: '動画で見るあおば市', body: '<p>市の紹介動画と、くらしに役立つ動画です。</p>' },
      pages: [
        { slug: 'gomi-bunbetsu', type: 'video', title: '動画で分かる ごみの分け方・出し方', summary: '燃やすごみ・資源ごみ・粗大ごみの分け方を3分で紹介します。', body: '<p>ごみの分け方と出し方を、実際のごみを使って説明します。</p>', cats: ['gomi'], tags: ['分別', '動画'], dept: '992011-soumu', fields: video({ url: 'https://www.youtube.com/watch?v=aobaGomi001', durationSeconds: 195, description: 'あおば市のごみの分け方を、燃やすごみ・資源ごみ・粗大ごみの順に紹介します。', transcript: '（ナレーション）あおば市では、ごみを燃やすごみ、資源ごみ、粗大ごみに分けて出します。\n燃やすごみは、指定袋に入れて、収集日の朝8時30分までに出してください。\n資源ごみは、びん・缶・ペットボトルを分けて、中を軽くすすいでから出します。\n粗大ごみは、電話かインターネットで申し込んでください。\n（画面に収集日の一覧が表示される）' }) },
        { slug: 'pr-movie', type: 'video', title: 'あおば市 観光PR動画「川と梨のまち」', summary: '四季のあおば市を2分で紹介します。', body: '<p>桜、花火、梨、紅葉。四季のあおば市を紹介するPR動画です。</p>', cats: ['kanko'], tags: ['観光', 'PR'], dept: '992011-kanko', fields: video({ url: 'https://www.youtube.com/watch?v=aobaPRmv002', durationSeconds: 128, description: '四季のあおば市の風景を、音楽とナレーションで紹介します。', transcript: '（音楽）\n（ナレーション）みどり県の北、あおば川の流れるまち、あおば市。\n春は、川沿いの800本の桜。\n夏は、夜空に広がる花火。\n秋は、甘い「あおば梨」の収穫。\nあおば市へ、ぜひお越しください。' }) },
      ],
    },
  };
}

/**
 * Demo content of the page types for あおば市: categories, news (one 緊急, one 重要), events
 * (a span, a weekly one, a list of dates) dated around today, spots near 35.6°N 140.1°E,
 * an article, an interview, two videos, and contacts of the city's departments. All published.
 * Runs once (skipped when the site already has categories).
 */
export async function seedTypesDemo(p: Platform, cms: CmsServices): Promise<void> {
  const site = (await cms.sites.all()).find((s) => s.key === 'aoba');
  if (!site) return;
  const cats = categoriesOf(p);
  if ((await cats.list(site.id)).length) return;
  const actor: Actor = consoleActor(p.permissions);

  const city = await p.db.selectFrom('organizations').select('id').where('code', '=', '992011').executeTakeFirst();
  for (const dpt of DEPARTMENTS) {
    const exists = await p.db.selectFrom('organizations').select('id').where('code', '=', dpt.code).executeTakeFirst();
    if (!exists && city) await p.organizations.create(actor, { code: dpt.code, name: dpt.name, nameEn: dpt.nameEn, kind: 'department', parentId: String(city.id) }, meta);
  }
  const orgs = new Map((await p.db.selectFrom('organizations').select(['id', 'code']).execute()).map((o) => [o.code, o.id]));
  for (const [code, contact] of Object.entries(CONTACTS)) {
    const id = orgs.get(code);
    if (id) await contactsOf(p).save(actor, id, contact, meta);
  }

  const catIds = new Map<string, number>();
  for (const top of CATEGORIES) {
    const id = await cats.create(actor, { siteId: site.id, slug: top.slug, name: top.name, description: top.description ?? '' }, meta);
    catIds.set(top.slug, id);
    for (const sub of top.children ?? []) catIds.set(sub.slug, await cats.create(actor, { siteId: site.id, parentId: id, slug: sub.slug, name: sub.name }, meta));
  }

  const root = await cms.pages.root(site.id);
  let sort = 10;
  for (const group of Object.values(pages(todayJst()))) {
    // Another feature's demo may have made the folder already: it is reused.
    const path = `/${group.folder.slug}/`;
    const existing = await p.db.selectFrom('cms_nodes').select('id').where('site_id', '=', site.id).where('path', '=', path).executeTakeFirst();
    const folderId =
      existing?.id ??
      (await cms.pages.create(actor, { siteId: site.id, parentId: root.id, kind: 'folder', slug: group.folder.slug, title: group.folder.title, body: group.folder.body, sortOrder: sort++, organizationId: city?.id ?? null }, meta));
    if (!existing) await cms.pages.publish(actor, folderId, meta);
    for (const [i, pg] of group.pages.entries()) {
      const taken = await p.db.selectFrom('cms_nodes').select('id').where('site_id', '=', site.id).where('path', '=', `${path}${pg.slug}`).executeTakeFirst();
      if (taken) continue;
      const fields = { ...pg.fields, categories: pg.cats.map((s) => catIds.get(s)).filter((x): x is number => x !== undefined), tags: pg.tags ?? [], department: null };
      const id = await cms.pages.create(
        actor,
        { siteId: site.id, parentId: folderId, kind: 'page', slug: pg.slug, title: pg.title, summary: pg.summary, body: pg.body, pageType: pg.type, fields, sortOrder: i, organizationId: orgs.get(pg.dept) ?? city?.id ?? null },
        meta,
      );
      await cms.pages.publish(actor, id, meta);
    }
  }
}
