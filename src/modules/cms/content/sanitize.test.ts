import { parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { cleanWordHtml, embedUrl, sanitizeBody } from './sanitize.js';

type Node = ReturnType<typeof parseDocument>['children'][number];

const OUTPUT_TAGS = new Set([
  'p', 'div', 'h2', 'h3', 'h4', 'h5', 'h6', 'strong', 'em', 'u', 's', 'sub', 'sup', 'br', 'hr',
  'ul', 'ol', 'li', 'blockquote', 'a', 'img', 'figure', 'figcaption', 'table', 'caption', 'thead',
  'tbody', 'tfoot', 'tr', 'th', 'td', 'iframe',
]);
const OUTPUT_ATTRS = new Set(['data-youtube', 'href', 'target', 'rel', 'src', 'alt', 'width', 'height', 'data-decorative', 'scope', 'colspan', 'rowspan', 'title', 'loading', 'class']);
const EMBED_HOSTS = new Set(['www.youtube-nocookie.com', 'player.vimeo.com']);

/**
 * Parses sanitiser output as a browser-like HTML parser would and lists anything executable:
 * an element or attribute outside the allow-list, an event handler, a dangerous URL scheme,
 * an iframe to a host we do not embed, or a comment.
 */
function executableContent(html: string): string[] {
  const found: string[] = [];
  const walk = (nodes: readonly Node[]): void => {
    for (const n of nodes) {
      if (n.type === 'comment') found.push(`comment: ${n.data}`);
      if (n.type === 'directive' || n.type === 'cdata') found.push(`${n.type}`);
      if (!('name' in n) || !('attribs' in n)) continue;
      if (!OUTPUT_TAGS.has(n.name)) found.push(`<${n.name}>`);
      for (const [k, v] of Object.entries(n.attribs)) {
        if (/^on/i.test(k)) found.push(`${n.name}[${k}]`);
        if (!OUTPUT_ATTRS.has(k)) found.push(`${n.name}[${k}]`);
        if (k === 'href' || k === 'src') {
          // eslint-disable-next-line no-control-regex
          const url = v.replace(/[\x00-\x20]/g, '').toLowerCase();
          if (/^(?:javascript|data|vbscript|file):/.test(url)) found.push(`${n.name}[${k}=${v}]`);
          if (!/^(?:https?:\/\/|mailto:|tel:|\/(?![/\\])|#)/.test(url)) found.push(`${n.name}[${k}=${v}] not an allowed form`);
        }
        if (k === 'class' && !/^(?:lead|note|important)(?: (?:lead|note|important))*$/.test(v) && !(n.name === 'figure' && v === 'video-embed')) found.push(`class=${v}`);
        if (k === 'data-youtube' && !/^[\w-]{11}$/.test(v)) found.push(`data-youtube=${v}`);
      }
      if (n.name === 'iframe') {
        const src = n.attribs.src ?? '';
        let host = '';
        try {
          host = new URL(src).hostname;
        } catch {
          host = '(invalid)';
        }
        if (!EMBED_HOSTS.has(host) || !src.startsWith('https://')) found.push(`iframe to ${src}`);
      }
      walk(n.children as Node[]);
    }
  };
  walk(parseDocument(html, { decodeEntities: true }).children);
  return found;
}

// OWASP XSS filter evasion classics and mutation-XSS shapes, plus what municipal editors paste.
const XSS_PAYLOADS: string[] = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>',
  '<<SCRIPT>alert("XSS");//<</SCRIPT>',
  '<scr<script>ipt>alert(1)</scr</script>ipt>',
  '<img src=x onerror=alert(1)>',
  '<IMG SRC="javascript:alert(\'XSS\');">',
  '<IMG SRC=JaVaScRiPt:alert(\'XSS\')>',
  '<IMG SRC=`javascript:alert("RSnake says, \'XSS\'")`>',
  '<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>',
  '<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>',
  '<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>',
  '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">',
  '<IMG DYNSRC="javascript:alert(\'XSS\')"><IMG LOWSRC="javascript:alert(\'XSS\')">',
  '<img src="/media/a.png" alt="x" onmouseover="alert(1)">',
  '<img src="/media/a.png" alt="x" onerror="alert(1)" ONLOAD="alert(1)">',
  '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" alt="x">',
  '<a href="jav&#x09;ascript:alert(1)">x</a>',
  '<a href="jav&#x0A;ascript:alert(1)">x</a>',
  '<a href="jav&#x0D;ascript:alert(1)">x</a>',
  '<a href="jav\tascript:alert(1)">x</a>',
  '<a href="java\nscript:alert(1)">x</a>',
  '<a href=" &#14;  javascript:alert(1)">x</a>',
  '<a href="&#1;javascript:alert(1)">x</a>',
  '<a href="java\u0000script:alert(1)">x</a>',
  '<a href="javascript&colon;alert(1)">x</a>',
  '<a href="&#x6A;avascript:alert(1)">x</a>',
  '<a href="JaVaScRiPt:alert(1)" target="_blank">x</a>',
  '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
  '<a href="vbscript:msgbox(1)">x</a>',
  '<a href="VBScript:msgbox(1)">x</a>',
  '<a href="#" onclick="alert(1)">x</a>',
  '<a href="https://example.jp/" style="color:red" onmouseover=alert(1)>x</a>',
  '<a href="//evil.example/">x</a>',
  '<a href="/\\evil.example/">x</a>',
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
  '<math href="javascript:alert(1)">x</math>',
  '<iframe src="javascript:alert(1)" title="x"></iframe>',
  '<iframe src="data:text/html,<script>alert(1)</script>" title="x"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>" title="x"></iframe>',
  '<iframe src="https://evil.example/embed/dQw4w9WgXcQ" title="x"></iframe>',
  '<iframe src="https://www.youtube.com.evil.example/embed/dQw4w9WgXcQ" title="x"></iframe>',
  '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" title="t" onload="alert(1)" srcdoc="<script>alert(1)</script>" allow="camera" sandbox="allow-scripts"></iframe>',
  '<style>@import \'http://xss.rocks/xss.css\';</style>',
  '<p style="background:url(javascript:alert(1))">x</p>',
  '<div style="width: expression(alert(1));">x</div>',
  '<object data="javascript:alert(1)"></object>',
  '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
  '<form action="javascript:alert(1)"><input type="submit"><button formaction="javascript:alert(1)">x</button></form>',
  '<base href="javascript:alert(1)//">',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<link rel="stylesheet" href="javascript:alert(1)">',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
  '<xmp><p title="</xmp><img src=x onerror=alert(1)>"></xmp>',
  '<textarea><img src=x onerror=alert(1)></textarea>',
  '<template><script>alert(1)</script></template>',
  '<!--<img src="--><img src=x onerror=alert(1)//">',
  '<body onload=alert(1)>',
  '<details open ontoggle=alert(1)>x</details>',
  '<video><source onerror="alert(1)"></video><audio src=x onerror=alert(1)>',
  '<marquee onstart=alert(1)>x</marquee>',
  '<table background="javascript:alert(1)"><tr><td background="javascript:alert(1)">x</td></tr></table>',
  '<p class="lead evil" id="x" tabindex="0" autofocus onfocus=alert(1)>x</p>',
  '<isindex action=javascript:alert(1) type=image>',
  '<img src="/media/../admin/users?delete=1" alt="x"><img src="/media/%2e%2e/admin" alt="x">',
  '<figure class="video-embed" data-youtube="&quot;><script>alert(1)</script>" onclick="alert(1)"></figure>',
];

describe('sanitizeBody against XSS payloads', () => {
  it('has a broad corpus', () => {
    expect(XSS_PAYLOADS.length).toBeGreaterThanOrEqual(40);
  });

  it.each(XSS_PAYLOADS.map((p, i) => [i, p] as const))('payload %i leaves nothing executable: %s', (_, payload) => {
    const out = sanitizeBody(payload);
    expect(executableContent(out)).toEqual([]);
    expect(out).not.toMatch(/<\s*script|javascript:|vbscript:|onerror|onload/i);
    // Stable under re-sanitising: what we store is exactly what we would produce again, so a
    // parser round trip cannot turn it into something else.
    expect(sanitizeBody(out)).toBe(out);
    // And the same holds when it arrives through the Word paste path.
    expect(executableContent(cleanWordHtml(payload))).toEqual([]);
  });

  it('the checker itself notices executable content (so the corpus test can fail)', () => {
    expect(executableContent('<img src=x onerror=alert(1)>')).not.toEqual([]);
    expect(executableContent('<a href="jav&#x09;ascript:alert(1)">x</a>')).not.toEqual([]);
    expect(executableContent('<iframe src="https://evil.example/"></iframe>')).not.toEqual([]);
    expect(executableContent('<p>a<!-- x -->b</p>')).not.toEqual([]);
    expect(executableContent('<p style="color:red">x</p>')).not.toEqual([]);
  });
});

describe('sanitizeBody keeps legitimate content', () => {
  it('returns a typical page body unchanged', () => {
    const body = [
      '<p class="lead">令和7年度の市民税・県民税の申告受付についてお知らせします。</p>',
      '<h2>申告が必要な方</h2>',
      '<p>次のいずれかに当てはまる方は、<strong>3月15日（月曜日）まで</strong>に申告してください。</p>',
      '<ul><li>給与所得以外の所得がある方</li><li>年の途中で退職した方<ul><li>再就職していない方</li></ul></li></ul>',
      '<h3>必要なもの</h3>',
      '<ol><li>本人確認書類</li><li>源泉徴収票</li></ol>',
      '<p class="note">※郵送でも受け付けます。<br />詳しくは<a href="/kurashi/zei/shinkoku.html">申告の手引き</a>をご覧ください。</p>',
      '<table><caption>受付日程</caption><thead><tr><th scope="col">会場</th><th scope="col">日程</th></tr></thead>',
      '<tbody><tr><th scope="row">市役所本庁舎</th><td>2月16日から3月15日</td></tr><tr><th scope="row">北支所</th><td colspan="2" rowspan="2">2月20日</td></tr></tbody></table>',
      '<figure><img src="/media/2025/kaijou.jpg" alt="市役所本庁舎2階の申告会場の様子" width="640" height="480" /><figcaption>申告会場</figcaption></figure>',
      '<img src="https://www.city.example.lg.jp/media/line.png" alt="" data-decorative="true" />',
      '<p>お問い合わせ：<a href="mailto:zeimu@city.example.lg.jp">税務課</a>（<a href="tel:0312345678">03-1234-5678</a>）</p>',
      '<p><a href="https://www.nta.go.jp/" target="_blank" rel="noopener">国税庁（新しいウィンドウで開きます）</a></p>',
      '<blockquote>引用文</blockquote><hr />',
      '<p>H<sub>2</sub>O と m<sup>2</sup>、<em>強調</em>、<u>下線</u>、<s>取消線</s></p>',
      '<h4>小見出し</h4><h5>更に小さな見出し</h5><h6>最小の見出し</h6>',
      '<div class="important"><p>重要なお知らせ</p></div>',
      '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" title="申告の手順（動画）" loading="lazy"></iframe>',
      '<iframe src="https://player.vimeo.com/video/76979871" title="市の紹介動画" loading="lazy"></iframe>',
      // The editor's own video block round-trips.
      '<figure class="video-embed" data-youtube="dQw4w9WgXcQ"><iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" title="手続きの説明" loading="lazy"></iframe></figure>',
      '<p><a href="#shinkoku">ページ内リンク</a></p>',
    ].join('');
    expect(sanitizeBody(body)).toBe(body);
  });

  it('demotes h1 to h2 and maps presentational tags to semantic ones', () => {
    expect(sanitizeBody('<h1>お知らせ</h1><p><b>太字</b><i>斜体</i><strike>取消</strike></p>')).toBe(
      '<h2>お知らせ</h2><p><strong>太字</strong><em>斜体</em><s>取消</s></p>',
    );
  });

  it('adds rel="noopener" to new-window links and drops other rel/target values', () => {
    expect(sanitizeBody('<a href="https://example.jp/" target="_BLANK" rel="opener">x</a>')).toBe('<a href="https://example.jp/" target="_blank" rel="noopener">x</a>');
    expect(sanitizeBody('<a href="https://example.jp/" target="_top" rel="nofollow">x</a>')).toBe('<a href="https://example.jp/">x</a>');
  });

  it('keeps only http(s), mailto, tel, site-relative and fragment links; unusable links become text', () => {
    expect(sanitizeBody('<a href="http://example.jp/a?b=1&amp;c=2">a</a>')).toBe('<a href="http://example.jp/a?b=1&amp;c=2">a</a>');
    expect(sanitizeBody('<a href="ftp://example.jp/">a</a>')).toBe('a');
    expect(sanitizeBody('<a href="relative/page.html">a</a>')).toBe('a');
    expect(sanitizeBody('<a href="//evil.example/">a</a>')).toBe('a');
    expect(sanitizeBody('<a name="top">a</a>')).toBe('a');
    expect(sanitizeBody('<a href="  https://example.jp/\n">a</a>')).toBe('<a href="https://example.jp/">a</a>');
  });

  it('handles image alt text: kept, missing stays missing, empty only when marked decorative', () => {
    expect(sanitizeBody('<img src="/media/a.png" alt="地図">')).toBe('<img src="/media/a.png" alt="地図" />');
    // Not invented: the accessibility check reports it and blocks approval.
    expect(sanitizeBody('<img src="/media/a.png">')).toBe('<img src="/media/a.png" />');
    expect(sanitizeBody('<img src="/media/a.png" alt="">')).toBe('<img src="/media/a.png" />');
    expect(sanitizeBody('<img src="/media/a.png" alt="" role="presentation">')).toBe('<img src="/media/a.png" alt="" data-decorative="true" />');
    expect(sanitizeBody('<img src="/media/a.png" alt="" data-decorative>')).toBe('<img src="/media/a.png" alt="" data-decorative="true" />');
    expect(sanitizeBody('<img src="/media/a.png" alt="" data-decorative="false">')).toBe('<img src="/media/a.png" />');
  });

  it('keeps image sources only from http(s) or /media/, and numeric sizes only', () => {
    expect(sanitizeBody('<img src="/files/a.png" alt="a">')).toBe('');
    expect(sanitizeBody('<img src="file:///C:/Users/yamada/clip_image001.png" alt="a">')).toBe('');
    expect(sanitizeBody('<img src="/media/a.png" alt="a" width="100%" height=" 200 " title="t" class="lead">')).toBe('<img src="/media/a.png" alt="a" height="200" />');
  });

  it('checks table attributes', () => {
    expect(sanitizeBody('<table><tr><th scope="ROW" abbr="x">a</th><th scope="bogus">b</th><td colspan="0" rowspan="3" width="100" style="x">c</td><td colspan="1">d</td></tr></table>')).toBe(
      '<table><tr><th scope="row">a</th><th>b</th><td rowspan="3">c</td><td>d</td></tr></table>',
    );
  });

  it('keeps only allow-listed classes, and only on p and div', () => {
    expect(sanitizeBody('<p class="lead MsoNormal important lead">a</p><h2 class="lead">b</h2><div class="x">c</div>')).toBe(
      '<p class="lead important">a</p><h2>b</h2><div>c</div>',
    );
  });

  it('keeps the editor video block markup but nothing else on figure', () => {
    expect(
      sanitizeBody('<figure class="video-embed lead" data-youtube="dQw4w9WgXcQ" data-x="1"><iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" title="動画" loading="lazy" allow="encrypted-media" allowfullscreen="true" referrerpolicy="strict-origin-when-cross-origin"></iframe></figure>'),
    ).toBe('<figure class="video-embed" data-youtube="dQw4w9WgXcQ"><iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" title="動画" loading="lazy"></iframe></figure>');
    expect(sanitizeBody('<figure data-youtube="x&quot; onload=&quot;alert(1)"><figcaption>a</figcaption></figure>')).toBe('<figure><figcaption>a</figcaption></figure>');
  });

  it('drops comments, forms, SVG/MathML and head elements but keeps their harmless text', () => {
    expect(sanitizeBody('<p>市<!-- 下書き -->役所</p><form><label>氏名<input name="n"></label></form><svg><text>図</text></svg>')).toBe('<p>市役所</p>氏名図');
    expect(sanitizeBody('<title>Microsoft Word - 文書1</title><style>p{}</style><p>本文</p>')).toBe('<p>本文</p>');
  });
});

describe('embeds', () => {
  const ID = 'dQw4w9WgXcQ';
  it.each([
    [`https://www.youtube.com/watch?v=${ID}`, `https://www.youtube-nocookie.com/embed/${ID}`],
    [`https://youtube.com/watch?v=${ID}&list=PL123&t=90`, `https://www.youtube-nocookie.com/embed/${ID}?start=90`],
    [`https://m.youtube.com/watch?v=${ID}`, `https://www.youtube-nocookie.com/embed/${ID}`],
    [`https://youtu.be/${ID}?t=1m5s`, `https://www.youtube-nocookie.com/embed/${ID}?start=65`],
    [`https://www.youtube.com/embed/${ID}?autoplay=1`, `https://www.youtube-nocookie.com/embed/${ID}`],
    [`//www.youtube.com/embed/${ID}`, `https://www.youtube-nocookie.com/embed/${ID}`],
    [`https://www.youtube.com/shorts/${ID}`, `https://www.youtube-nocookie.com/embed/${ID}`],
    [`https://www.youtube-nocookie.com/embed/${ID}`, `https://www.youtube-nocookie.com/embed/${ID}`],
    ['https://vimeo.com/76979871', 'https://player.vimeo.com/video/76979871'],
    ['https://vimeo.com/76979871/abc123', 'https://player.vimeo.com/video/76979871?h=abc123'],
    ['https://player.vimeo.com/video/76979871?autoplay=1', 'https://player.vimeo.com/video/76979871'],
  ])('rewrites %s', (input, expected) => {
    expect(embedUrl(input)).toBe(expected);
    expect(sanitizeBody(`<iframe src="${input.replace(/&/g, '&amp;')}" title="動画" width="560" height="315" frameborder="0" allowfullscreen></iframe>`)).toBe(
      `<iframe src="${expected}" title="動画" loading="lazy"></iframe>`,
    );
  });

  it.each([
    'https://www.youtube.com/watch?v=short',
    'https://www.youtube.com/watch?v=dQw4w9WgXcQ"onload="x',
    'https://www.youtube.com/playlist?list=PL123',
    'https://evil.example/watch?v=dQw4w9WgXcQ',
    'https://www.youtube.com@evil.example/embed/dQw4w9WgXcQ',
    'https://user:pw@www.youtube.com/embed/dQw4w9WgXcQ',
    'https://vimeo.com/channels/staffpicks',
    'javascript:alert(1)//https://www.youtube.com/embed/dQw4w9WgXcQ',
  ])('refuses %s', (input) => {
    expect(embedUrl(input)).toBeNull();
    expect(sanitizeBody(`<iframe src="${input.replace(/"/g, '&quot;')}" title="x"></iframe>`)).toBe('');
  });

  it('drops fallback content and keeps an untitled embed for the accessibility check to report', () => {
    expect(sanitizeBody(`<iframe src="https://youtu.be/${ID}">お使いのブラウザは<b>未対応</b></iframe>`)).toBe(
      `<iframe src="https://www.youtube-nocookie.com/embed/${ID}" loading="lazy"></iframe>`,
    );
  });

  it('allows extra HTTPS hosts only when configured', () => {
    const map = '<iframe src="https://maps.pref.example.lg.jp/embed?id=12" title="地図"></iframe>';
    expect(sanitizeBody(map)).toBe('');
    expect(sanitizeBody(map, { allowEmbedsFrom: ['maps.pref.example.lg.jp'] })).toBe(
      '<iframe src="https://maps.pref.example.lg.jp/embed?id=12" title="地図" loading="lazy"></iframe>',
    );
    expect(sanitizeBody(map.replace('https:', 'http:'), { allowEmbedsFrom: ['maps.pref.example.lg.jp'] })).toBe('');
    expect(sanitizeBody(map.replace('maps.', 'evil.maps.'), { allowEmbedsFrom: ['maps.pref.example.lg.jp'] })).toBe('');
  });
});

describe('cleanWordHtml', () => {
  it('turns a Word notice with bullet and numbered lists into clean semantic HTML', () => {
    const word = `<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word">
<head><meta http-equiv=Content-Type content="text/html; charset=utf-8"><meta name=Generator content="Microsoft Word 15">
<title>Microsoft Word - 文書1</title>
<style><!-- /* Style Definitions */ p.MsoNormal {mso-style-parent:""; margin:0mm; font-size:10.5pt; font-family:"游明朝",serif;} --></style>
<!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]-->
</head>
<body lang=JA style='tab-interval:42.0pt;word-wrap:break-word'>
<!--StartFragment-->
<h1><a name="_Toc1"></a><span style='font-family:"ＭＳ ゴシック"'>粗大ごみの出し方<o:p></o:p></span></h1>
<p class=MsoNormal><span style='font-family:"ＭＳ 明朝";mso-ascii-font-family:Century'>粗大ごみは、事前に申し込みが必要です。<span
lang=EN-US>&nbsp;&nbsp;&nbsp;&nbsp;</span>申し込みは<b><span style='color:red'>収集日の</span></b><b>7</b><b>日前まで</b>に行ってください。<o:p></o:p></span></p>
<p class=MsoNormal><o:p>&nbsp;</o:p></p>
<p class=MsoListParagraphCxSpFirst style='margin-left:21.0pt;mso-para-margin-left:0gd;text-indent:-21.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span
lang=EN-US style='font-family:Wingdings;mso-fareast-font-family:Wingdings;mso-bidi-font-family:Wingdings'><span
style='mso-list:Ignore'>l<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;
</span></span></span><![endif]><span style='mso-fareast-font-family:"ＭＳ 明朝"'>家具（たんす、ベッドなど）<o:p></o:p></span></p>
<p class=MsoListParagraphCxSpMiddle style='margin-left:21.0pt;text-indent:-21.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span
lang=EN-US style='font-family:Wingdings'><span style='mso-list:Ignore'>l<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp; </span></span></span><![endif]>家電製品<o:p></o:p></p>
<p class=MsoListParagraphCxSpMiddle style='margin-left:42.0pt;text-indent:-21.0pt;mso-list:l0 level2 lfo1'><![if !supportLists]><span
lang=EN-US style='font-family:"Courier New"'><span style='mso-list:Ignore'>o<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp; </span></span></span><![endif]>エアコン・テレビ・冷蔵庫・洗濯機は対象外です<o:p></o:p></p>
<p class=MsoListParagraphCxSpLast style='margin-left:21.0pt;text-indent:-21.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span
lang=EN-US style='font-family:Wingdings'><span style='mso-list:Ignore'>l<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp; </span></span></span><![endif]>自転車<o:p></o:p></p>
<h2><span style='font-family:"ＭＳ ゴシック"'>申し込み方法</span></h2>
<p class=MsoListParagraphCxSpFirst style='margin-left:18.0pt;text-indent:-18.0pt;mso-list:l1 level1 lfo2'><![if !supportLists]><span
lang=EN-US><span style='mso-list:Ignore'>1.<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span></span></span><![endif]>電話で粗大ごみ受付センターに申し込む<o:p></o:p></p>
<p class=MsoListParagraphCxSpLast style='margin-left:18.0pt;text-indent:-18.0pt;mso-list:l1 level1 lfo2'><![if !supportLists]><span
lang=EN-US><span style='mso-list:Ignore'>2.<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span></span></span><![endif]>コンビニで処理券を購入し、品物に貼る<o:p></o:p></p>
<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>
<p class=MsoNormal>問い合わせ先：<a href="https://www.city.example.lg.jp/gomi/"><span
style='mso-bidi-font-family:Century'>ごみ減量課</span></a><o:p></o:p></p>
<br clear=all style='page-break-before:always'>
<!--EndFragment-->
</body></html>`;
    expect(cleanWordHtml(word)).toBe(
      '<h2>粗大ごみの出し方</h2>' +
        '<p>粗大ごみは、事前に申し込みが必要です。申し込みは<strong>収集日の</strong><strong>7</strong><strong>日前まで</strong>に行ってください。</p>' +
        '<ul><li>家具（たんす、ベッドなど）</li><li>家電製品<ul><li>エアコン・テレビ・冷蔵庫・洗濯機は対象外です</li></ul></li><li>自転車</li></ul>' +
        '<h2>申し込み方法</h2>' +
        '<ol><li>電話で粗大ごみ受付センターに申し込む</li><li>コンビニで処理券を購入し、品物に貼る</li></ol>' +
        '<p>問い合わせ先：<a href="https://www.city.example.lg.jp/gomi/">ごみ減量課</a></p>',
    );
  });

  it('cleans a Word table and turns typed "・" paragraphs into a list', () => {
    const word = `<!--StartFragment--><p class=MsoNormal><b><span style='font-size:12.0pt;font-family:"ＭＳ ゴシック"'>持ち物<o:p></o:p></span></b></p>
<p class=MsoNormal style='margin-left:10.5pt'>・印鑑<o:p></o:p></p>
<p class=MsoNormal style='margin-left:10.5pt'>・本人確認書類（運転免許証、マイナンバー
カードなど）<o:p></o:p></p>
<p class=MsoNormal>※代理人の場合は委任状が必要です。<o:p></o:p></p>
<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0 style='border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt;mso-yfti-tbllook:1184'>
 <tr style='mso-yfti-irow:0;mso-yfti-firstrow:yes'>
  <td width=189 valign=top style='width:141.6pt;border:solid windowtext 1.0pt;padding:0mm 5.4pt 0mm 5.4pt'>
  <p class=MsoNormal><span style='font-family:"ＭＳ 明朝"'>区分<o:p></o:p></span></p>
  </td>
  <td width=189 valign=top style='width:141.6pt;border:solid windowtext 1.0pt'>
  <p class=MsoNormal align=center style='text-align:center'>手数料<o:p></o:p></p>
  </td>
 </tr>
 <tr style='mso-yfti-irow:1;mso-yfti-lastrow:yes'>
  <td width=189 valign=top style='width:141.6pt'><p class=MsoNormal>住民票の写し<o:p></o:p></p></td>
  <td width=189 valign=top style='width:141.6pt'><p class=MsoNormal>300<span style='font-family:"ＭＳ 明朝"'>円</span><o:p></o:p></p></td>
 </tr>
</table>
<p class=MsoNormal><o:p>&nbsp;</o:p></p><!--EndFragment-->`;
    expect(cleanWordHtml(word)).toBe(
      '<p><strong>持ち物</strong></p>' +
        '<ul><li>印鑑</li><li>本人確認書類（運転免許証、マイナンバーカードなど）</li></ul>' +
        '<p>※代理人の場合は委任状が必要です。</p>' +
        '<table><tr><td>区分</td><td>手数料</td></tr><tr><td>住民票の写し</td><td>300円</td></tr></table>',
    );
  });

  it('cleans an Excel paste down to a plain table', () => {
    const excel = `<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">
<head><style>.xl65{mso-number-format:"\\#\\,\\#\\#0";}</style></head><body link="#0563C1" vlink="#954F72">
<table border=0 cellpadding=0 cellspacing=0 width=256 style='border-collapse:collapse;width:192pt'>
<!--StartFragment-->
 <col width=128 span=2 style='width:96pt'>
 <tr height=18 style='height:13.5pt'>
  <td height=18 class=xl66 width=128 style='height:13.5pt;width:96pt'>地区</td>
  <td class=xl66 width=128 style='width:96pt'>世帯数</td>
 </tr>
 <tr height=18 style='height:13.5pt'>
  <td height=18 style='height:13.5pt'>中央地区</td>
  <td class=xl65 align=right x:num="12345">12,345</td>
 </tr>
<!--EndFragment-->
</table></body></html>`;
    expect(cleanWordHtml(excel)).toBe('<table><tr><td>地区</td><td>世帯数</td></tr><tr><td>中央地区</td><td>12,345</td></tr></table>');
  });

  it('converts a Word numbered list typed as "1." paragraphs only when there is a run of them', () => {
    expect(cleanWordHtml('<p class=MsoNormal>1. 受付</p><p class=MsoNormal>2. 審査</p>')).toBe('<ol><li>受付</li><li>審査</li></ol>');
    expect(cleanWordHtml('<p class=MsoNormal>・一行だけ</p><p class=MsoNormal>本文</p>')).toBe('<p>・一行だけ</p><p>本文</p>');
    expect(cleanWordHtml('<p class=MsoNormal>10.5cmの用紙</p><p class=MsoNormal>11.5cmの用紙</p>')).toBe('<p>10.5cmの用紙</p><p>11.5cmの用紙</p>');
  });

  it('removes line breaks Word put in its HTML source between Japanese characters', () => {
    expect(cleanWordHtml('<p class=MsoNormal>申請書は市民課\r\n窓口へ。Please\nsubmit it.</p>')).toBe('<p>申請書は市民課窓口へ。Please submit it.</p>');
  });
});
