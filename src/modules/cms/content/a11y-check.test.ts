import { describe, expect, it } from 'vitest';
import { checkAccessibility, fixMachineDependentChars, hasBlockingIssues, type A11yIssue, type A11yIssueCode } from './a11y-check.js';
import { sanitizeBody } from './sanitize.js';

const codes = (html: string): A11yIssueCode[] => checkAccessibility(html).map((i) => i.code);
const only = (html: string, code: A11yIssueCode): A11yIssue[] => checkAccessibility(html).filter((i) => i.code === code);
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9fff]/;

// A page as a careful editor writes it: passes every rule.
const GOOD_PAGE = `
<p class="lead">令和7年度の児童手当の現況届についてお知らせします。</p>
<h2>対象となる方</h2>
<p>児童手当を受給している方のうち、次に当てはまる方です。</p>
<ul><li>配偶者と別居している方</li><li>戸籍のない児童を養育している方</li></ul>
<h3>提出書類</h3>
<p><a href="/media/2025/genkyo.pdf">現況届の様式（PDF：245KB）</a></p>
<p><a href="/media/2025/genkyo-kinyurei.xlsx">記入例（Excel：18KB）</a></p>
<h3>提出期限</h3>
<table>
  <caption>提出期限と受付場所</caption>
  <thead><tr><th scope="col">受付場所</th><th scope="col">期限</th></tr></thead>
  <tbody><tr><th scope="row">子育て支援課（市役所2階）</th><td>6月30日（月曜日）</td></tr></tbody>
</table>
<h2>お問い合わせ</h2>
<figure><img src="/media/2025/madoguchi.jpg" alt="子育て支援課の窓口。番号札の発券機が入口にあります。" /><figcaption>窓口の様子</figcaption></figure>
<img src="/media/line.png" alt="" data-decorative="true" />
<p>子育て支援課 手当係 電話：03-1234-5678（平日午前8時30分から午後5時15分まで）</p>
<p><a href="https://www.cfa.go.jp/" target="_blank" rel="noopener">こども家庭庁のウェブサイト（新しいウィンドウで開きます）</a></p>
<p>氏名は「山田　太郎」のように姓と名の間を空けて記入してください。<strong><span style="color:#c00">期限を過ぎると手当が止まります。</span></strong></p>
<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" title="現況届の書き方（動画）" loading="lazy"></iframe>
`;

describe('checkAccessibility: a well-written page', () => {
  it('passes cleanly, before and after sanitising', () => {
    expect(checkAccessibility(GOOD_PAGE)).toEqual([]);
    expect(checkAccessibility(sanitizeBody(GOOD_PAGE))).toEqual([]);
    expect(hasBlockingIssues(checkAccessibility(GOOD_PAGE))).toBe(false);
  });

  it('finds nothing in an empty body', () => {
    expect(checkAccessibility('')).toEqual([]);
  });
});

describe('img-alt-missing / img-alt-filename', () => {
  it('reports images without alt, or with an empty alt not marked decorative, as errors', () => {
    const issues = only('<p><img src="/media/a.jpg"><img src="/media/b.jpg" alt="  "></p>', 'img-alt-missing');
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatchObject({ severity: 'error', excerpt: '<img src="/media/a.jpg">' });
    expect(issues[0]!.message).toBe('画像に代替テキスト（alt）がありません。画像の内容を説明する文を入力してください。飾りだけの画像なら「装飾画像」に設定してください。');
  });

  it('accepts described images and images marked decorative', () => {
    expect(codes('<img src="/media/a.jpg" alt="市役所の外観">')).toEqual([]);
    expect(codes('<img src="/media/a.jpg" alt="" data-decorative="true">')).toEqual([]);
    expect(codes('<img src="/media/a.jpg" alt="" role="presentation">')).toEqual([]);
    expect(codes('<img src="/media/a.jpg" alt="" data-decorative="false">')).toEqual(['img-alt-missing']);
  });

  it('warns when the alt text is a file name', () => {
    expect(only('<img src="/media/a.jpg" alt="IMG_0123.JPG">', 'img-alt-filename')[0]).toMatchObject({ severity: 'warning' });
    expect(codes('<img src="/media/a.jpg" alt="DSC0042">')).toEqual(['img-alt-filename']);
    expect(codes('<img src="/media/a.jpg" alt="ごみ集積所の写真">')).toEqual([]);
  });
});

describe('headings', () => {
  it('reports a skipped level (h2 → h4) with the level to use', () => {
    const [issue] = only('<h2>申請</h2><h4>必要書類</h4>', 'heading-skip');
    expect(issue).toMatchObject({ severity: 'error', excerpt: '必要書類', fix: '見出し3' });
    expect(issue!.message).toContain('見出し2（h2）の次に見出し4（h4）');
  });

  it('reports a body that starts below h2', () => {
    expect(only('<h3>概要</h3><h4>詳細</h4>', 'heading-first-level')[0]).toMatchObject({ severity: 'error', excerpt: '概要', fix: '見出し2' });
    expect(codes('<h3>概要</h3><h4>詳細</h4>')).toEqual(['heading-first-level']);
  });

  it('reports h1 in the body (the page title is the h1)', () => {
    expect(codes('<h1>お知らせ</h1>')).toEqual(['heading-h1-in-body']);
  });

  it('accepts going down one level at a time and back up any number', () => {
    expect(codes('<h2>a</h2><h3>b</h3><h4>c</h4><h2>d</h2><h3>e</h3><h3>f</h3>')).toEqual([]);
    expect(codes('<h2>a</h2><h3>b</h3><h4>c</h4><h5>d</h5><h6>e</h6><h3>f</h3>')).toEqual([]);
  });

  it('reports empty headings', () => {
    const issues = only('<h2> </h2><h2>&nbsp;</h2><h2><strong></strong></h2>', 'empty-heading');
    expect(issues).toHaveLength(3);
    expect(issues[0]!.message).toBe('見出し2（h2）に文字がありません。内容を表す見出しを入力するか、見出しを削除してください。');
    expect(codes('<h2><img src="/media/logo.png" alt="ごみ分別アプリ"></h2>')).toEqual([]);
  });
});

describe('links', () => {
  it.each(['こちら', 'ここ', '詳しくはこちら', '詳細', 'click here', 'Click Here', 'ｺﾁﾗ', 'コチラ', 'ＣＬＩＣＫ　ＨＥＲＥ', '→こちら', '「詳細はこちら」', 'こちら（PDF：120KB）'])(
    'reports vague link text 「%s」',
    (text) => {
      const issues = only(`<p><a href="/page">${text}</a></p>`, 'vague-link-text');
      expect(issues).toHaveLength(1);
      expect(issues[0]!.severity).toBe('error');
      expect(issues[0]!.message).toMatch(/^リンクの文字「.+」だけではリンク先が分かりません。/);
    },
  );

  it.each(['申請書の様式', 'こちらの窓口の案内', '詳細な日程表', 'ここに注意：冬の水道管凍結'])('accepts descriptive link text 「%s」', (text) => {
    expect(only(`<a href="/page">${text}</a>`, 'vague-link-text')).toEqual([]);
  });

  it('reports empty links, including image links without alt', () => {
    expect(codes('<a href="/a"></a>')).toEqual(['empty-link']);
    expect(codes('<a href="/a"> &nbsp; </a>')).toEqual(['empty-link']);
    expect(codes('<a href="/a"><img src="/media/banner.png"></a>')).toEqual(['empty-link', 'img-alt-missing']);
    expect(codes('<a href="/a"><img src="/media/banner.png" alt="防災マップ"></a>')).toEqual([]);
    // An anchor without href is not a link.
    expect(codes('<a name="top"></a>')).toEqual([]);
  });

  it('reports file links without type and size, and says what is missing', () => {
    const [both] = only('<a href="/media/youkou.pdf">募集要項</a>', 'pdf-link-no-info');
    expect(both).toMatchObject({ severity: 'error', excerpt: '募集要項', fix: '募集要項（PDF：○○KB）' });
    expect(both!.message).toContain('ファイル形式とサイズ');
    expect(only('<a href="/media/youkou.pdf">募集要項（PDF）</a>', 'pdf-link-no-info')[0]!.message).toContain('ファイルサイズが');
    expect(only('<a href="/media/youkou.pdf">募集要項（245KB）</a>', 'pdf-link-no-info')[0]!.message).toContain('ファイル形式が');
    expect(only('<a href="/media/shinsei.docx?v=2">申請書</a>', 'pdf-link-no-info')[0]!.message).toContain('Word');
    expect(only('<a href="https://example.lg.jp/files/list.XLSX">一覧</a>', 'pdf-link-no-info')[0]!.message).toContain('Excel');
  });

  it.each([
    '募集要項（PDF：245KB）',
    '募集要項(PDF:245KB)',
    '募集要項（ＰＤＦ：２４５ＫＢ）',
    '募集要項（PDFファイル 1.2MB）',
    '募集要項 [PDF形式／245キロバイト]',
  ])('accepts a file link announced as 「%s」', (text) => {
    expect(codes(`<a href="/media/youkou.pdf">${text}</a>`)).toEqual([]);
  });

  it('does not treat ordinary pages as files', () => {
    expect(codes('<a href="/kurashi/pdf-guide.html">PDFの開き方</a>')).toEqual([]);
  });

  it('warns about new-window links that do not say so', () => {
    const [issue] = only('<a href="https://example.jp/" target="_blank">国の制度</a>', 'link-new-window-unannounced');
    expect(issue).toMatchObject({ severity: 'warning', fix: '国の制度（新しいウィンドウで開きます）' });
    expect(codes('<a href="https://example.jp/" target="_blank">国の制度（新しいウィンドウで開きます）</a>')).toEqual([]);
    expect(codes('<a href="https://example.jp/" target="_blank">国の制度（別ウインドウ）</a>')).toEqual([]);
    expect(codes('<a href="https://example.jp/">国の制度</a>')).toEqual([]);
  });
});

describe('tables', () => {
  it('reports a table without header cells as an error and without caption as a warning', () => {
    const issues = checkAccessibility('<table><tr><td>区分</td><td>手数料</td></tr><tr><td>住民票</td><td>300円</td></tr></table>');
    expect(issues.map((i) => [i.code, i.severity])).toEqual([
      ['table-no-header', 'error'],
      ['table-no-caption', 'warning'],
    ]);
    expect(issues[0]!.excerpt).toBe('区分 手数料 住民票 300円');
  });

  it('accepts a table with th and a caption; an empty caption still counts as missing', () => {
    expect(codes('<table><caption>手数料</caption><tr><th>区分</th><td>300円</td></tr></table>')).toEqual([]);
    expect(codes('<table><caption> </caption><tr><th>区分</th><td>300円</td></tr></table>')).toEqual(['table-no-caption']);
  });
});

describe('machine-dependent characters', () => {
  it('reports each character once with its count and replacement', () => {
    const issues = only('<p>①申請書を②の窓口へ。①は必須です。</p>', 'machine-dependent-char');
    expect(issues.map((i) => [i.fix, i.severity])).toEqual([
      ['(1)', 'error'],
      ['(2)', 'error'],
    ]);
    expect(issues[0]!.message).toBe('機種依存文字「①」が使われています（2か所）。パソコンや読み上げソフトによって正しく表示・読み上げされないため、「(1)」に置き換えてください。');
    expect(issues[0]!.excerpt).toBe('①申請書を②の窓口へ。①は必須で…');
    expect(issues[1]!.excerpt).toBe('①申請書を②の窓口へ。①は必須です。');
  });

  it.each([
    ['⑳', '(20)'], ['Ⅲ', 'III'], ['ⅳ', 'iv'], ['㈱', '(株)'], ['㈲', '(有)'], ['㈹', '(代)'], ['℡', 'TEL'],
    ['㍉', 'ミリ'], ['㌔', 'キロ'], ['㌢', 'センチ'], ['㍍', 'メートル'], ['㌘', 'グラム'], ['㌧', 'トン'],
    ['㌃', 'アール'], ['㌶', 'ヘクタール'], ['㍑', 'リットル'], ['㍗', 'ワット'], ['㌍', 'カロリー'], ['㌦', 'ドル'],
    ['㌣', 'セント'], ['㌫', 'パーセント'], ['㍊', 'ミリバール'], ['㌻', 'ページ'], ['㎜', 'mm'], ['㎝', 'cm'],
    ['㎞', 'km'], ['㎎', 'mg'], ['㎏', 'kg'], ['㏄', 'cc'], ['㎡', '平方メートル'], ['㍻', '平成'], ['〝', '“'],
    ['〟', '”'], ['№', 'No.'], ['㏍', 'K.K.'], ['㊤', '(上)'], ['㊥', '(中)'], ['㊦', '(下)'], ['㊧', '(左)'],
    ['㊨', '(右)'], ['㈪', '(月)'], ['㈫', '(火)'], ['㈬', '(水)'], ['㈭', '(木)'], ['㈮', '(金)'], ['㈯', '(土)'],
    ['㈰', '(日)'], ['㈷', '(祝)'], ['㍾', '明治'], ['㍽', '大正'], ['㍼', '昭和'], ['∑', 'Σ'], ['ｶﾀｶﾅ', 'カタカナ'],
    ['ｶﾞｲﾄﾞﾌﾞｯｸ', 'ガイドブック'],
  ])('%s → %s', (ch, fix) => {
    const issues = only(`<p>受付${ch}案内</p>`, 'machine-dependent-char');
    expect(issues).toHaveLength(1);
    expect(issues[0]!.fix).toBe(fix);
    expect(fixMachineDependentChars(`受付${ch}案内`)).toBe(`受付${fix}案内`);
  });

  it('reports characters without a faithful replacement and leaves them for the editor', () => {
    for (const ch of ['∮', '∟', '⊿']) {
      const [issue] = only(`<p>${ch}</p>`, 'machine-dependent-char');
      expect(issue!.fix).toBeUndefined();
      expect(issue!.message).toContain('別の書き方にしてください');
      expect(fixMachineDependentChars(ch)).toBe(ch);
    }
  });

  it('also checks alt text, and ignores portable look-alikes', () => {
    expect(codes('<img src="/media/a.png" alt="①の地図">')).toEqual(['machine-dependent-char']);
    expect(codes('<p>(1) (株) カタカナ 平方メートル ≒ ≡ ∫ √ ⊥ ∠ ∵ ∩ ∪ ～ ー 髙橋 ※ 〒100-0001 ｢</p>')).toEqual(['machine-dependent-char']);
    expect(codes('<p>(1) (株) カタカナ 平方メートル ≒ ≡ ∫ √ ⊥ ∠ ∵ ∩ ∪ ～ ー 髙橋 ※ 〒100-0001</p>')).toEqual([]);
  });

  it('fixMachineDependentChars repairs a whole sentence and is safe on HTML', () => {
    expect(fixMachineDependentChars('①申請書を㈱まちまどへ提出（ｶﾀｶﾅ可）、面積は20㎡、Ⅱ期工事')).toBe('(1)申請書を(株)まちまどへ提出（カタカナ可）、面積は20平方メートル、II期工事');
    expect(fixMachineDependentChars('<p class="lead">㈱<a href="/a">①</a></p>')).toBe('<p class="lead">(株)<a href="/a">(1)</a></p>');
    expect(fixMachineDependentChars('変更なし')).toBe('変更なし');
  });
});

describe('spaced Japanese', () => {
  it.each(['氏　名', '住 所', 'お 知 ら せ', '電　話　番　号'])('warns about 「%s」', (text) => {
    const issues = only(`<table><caption>申込書</caption><tr><th>${text}</th><td></td></tr></table>`, 'all-caps-or-spaced-japanese');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'warning', fix: text.replace(/[ 　]/g, '') });
  });

  it.each(['山田　太郎', '令和7年 4月1日', '市民課 窓口', 'Machimado 市役所'])('accepts 「%s」', (text) => {
    expect(codes(`<p>${text}</p>`)).toEqual([]);
  });
});

describe('colour-only emphasis', () => {
  it('warns about coloured text that is not also emphasised', () => {
    const [issue] = only('<p><span style="color: red">締め切りは3月末です</span></p>', 'color-only-emphasis');
    expect(issue).toMatchObject({ severity: 'warning', excerpt: '締め切りは3月末です' });
    expect(codes('<p><font color="red">重要</font></p>')).toEqual(['color-only-emphasis']);
  });

  it('accepts colour combined with bold, and background colour', () => {
    expect(codes('<p><strong style="color:red">重要</strong></p>')).toEqual([]);
    expect(codes('<p><span style="color:red"><strong>重要</strong></span></p>')).toEqual([]);
    expect(codes('<p><span style="background-color:yellow">目印</span></p>')).toEqual([]);
  });
});

describe('iframe-no-title', () => {
  it('reports embeds without a title', () => {
    expect(codes('<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"></iframe>')).toEqual(['iframe-no-title']);
    expect(codes('<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" title=" "></iframe>')).toEqual(['iframe-no-title']);
  });
});

describe('issues as a whole', () => {
  const BAD_PAGE = `
<h3>イベントのお知らせ</h3>
<p>①日時：5月3日㈰ 午前10時から</p>
<p>詳しくは<a href="/media/event.pdf">こちら</a>をご覧ください。</p>
<img src="/media/poster.jpg">
<table><tr><td>氏　名</td><td></td></tr></table>
<p><a href="https://example.jp/" target="_blank">主催団体</a></p>`;

  it('come in document order with Japanese messages, and errors block approval', () => {
    const issues = checkAccessibility(BAD_PAGE);
    expect(issues.map((i) => i.code)).toEqual([
      'heading-first-level',
      'machine-dependent-char',
      'machine-dependent-char',
      'vague-link-text',
      'pdf-link-no-info',
      'img-alt-missing',
      'table-no-header',
      'table-no-caption',
      'all-caps-or-spaced-japanese',
      'link-new-window-unannounced',
    ]);
    for (const i of issues) {
      expect(i.message).toMatch(JAPANESE);
      expect(i.excerpt.length).toBeGreaterThan(0);
      expect(i.excerpt.length).toBeLessThanOrEqual(70);
    }
    expect(hasBlockingIssues(issues)).toBe(true);
  });

  it('warnings alone do not block approval', () => {
    const issues = checkAccessibility('<table><tr><th>氏　名</th></tr></table>');
    expect(issues.map((i) => i.severity)).toEqual(['warning', 'warning']);
    expect(hasBlockingIssues(issues)).toBe(false);
    expect(hasBlockingIssues([])).toBe(false);
  });

  it('ignores script and style text in unsanitised input', () => {
    expect(codes('<style>.a::before{content:"①"}</style><script>var s = "氏 名";</script>')).toEqual([]);
  });
});
