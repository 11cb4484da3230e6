import { jsonForScript, JsonLd } from '../../../core/ui/json-script.js';
import { embedUrl } from '../content/index.js';
import type { PublicPageContext } from '../parts.js';
import type { CategoryRecord } from './categories.js';
import type { DepartmentContact } from './contacts.js';
import { WEEKDAYS_JA, type ArticleFields, type EventFields, type NewsFields, type SpotFields, type VideoFields } from './fields.js';
import { describeDates, eventDayList, formatDateJa, formatInstantDateJa, formatTimeRangeJa } from './format.js';
import { formatDuration } from './form.js';

/** Public pieces of the page types: marks, event and spot details, article byline, video, taxonomy, contact. */

/** 地理院地図 at a point (no third-party script: a plain link). */
export function gsiMapUrl(lat: number, lng: number, zoom = 16): string {
  return `https://maps.gsi.go.jp/#${zoom}/${lat}/${lng}/`;
}

/** Free text with its line breaks kept (CSS `white-space: pre-line`). */
function Lines(props: { text: string }) {
  return <span class="pre-line">{props.text}</span>;
}

/** お知らせ: 緊急 / 重要 marks as words, never colour alone, and the date. */
export function NewsMeta(props: { news: NewsFields; publishedAt: string | null }) {
  const { news } = props;
  return (
    <div class="news-meta">
      {news.urgent || news.important ? (
        <p class="news-marks">
          {news.urgent ? <span class="mark-badge mark-badge--urgent">緊急</span> : null}
          {news.important ? <span class="mark-badge mark-badge--important">重要</span> : null}
        </p>
      ) : null}
      {props.publishedAt ? (
        <p class="page-date">
          掲載日: <time datetime={props.publishedAt}>{formatInstantDateJa(props.publishedAt)}</time>
        </p>
      ) : null}
      {news.endHint ? <p class="page-date">掲載期間の目安: {formatDateJa(news.endHint)}まで</p> : null}
    </div>
  );
}

/** A page's path with `.ics`, or `?format=ics` for a folder. */
export function icsHref(prefix: string, path: string): string {
  return path.endsWith('/') ? `${prefix}${path}?format=ics` : `${prefix}${path}.ics`;
}

/** イベント: when, where (with a 地理院地図 link), for whom, fee, application, contact, iCal. */
export function EventInfo(props: { event: EventFields; icsHref: string; mapHref?: string | null }) {
  const ev = props.event;
  const days = eventDayList(ev);
  const time = formatTimeRangeJa(ev.startTime, ev.endTime);
  const showList = ev.dates.kind === 'weekly' || ev.dates.kind === 'list';
  return (
    <section class="event-info" aria-labelledby="event-info-title">
      <h2 id="event-info-title">開催概要</h2>
      <dl class="meta">
        <dt>日時</dt>
        <dd>
          <p class="event-when" data-testid="event-when">{describeDates(ev.dates)}{time ? `　${time}` : ''}</p>
          {showList && days.length ? (
            <details class="event-dates" open={days.length <= 12}>
              <summary>開催日の一覧（{days.length}日）</summary>
              <ul>
                {days.map((d) => (
                  <li><time datetime={d}>{formatDateJa(d)}</time></li>
                ))}
              </ul>
            </details>
          ) : null}
        </dd>
        {ev.venue || ev.address ? (
          <>
            <dt>会場</dt>
            <dd>
              {ev.venue ? <span class="event-venue">{ev.venue}</span> : null}
              {ev.venue && ev.address ? <br /> : null}
              {ev.address ? <span>{ev.address}</span> : null}
              {ev.lat !== null && ev.lng !== null ? (
                <>
                  <br />
                  <a href={gsiMapUrl(ev.lat, ev.lng)} rel="noopener" target="_blank">会場の地図（地理院地図・新しいウィンドウで開きます）</a>
                  {props.mapHref ? <> ／ <a href={props.mapHref}>スポットマップで見る</a></> : null}
                </>
              ) : null}
            </dd>
          </>
        ) : null}
        {ev.target ? <><dt>対象</dt><dd><Lines text={ev.target} /></dd></> : null}
        {ev.fee ? <><dt>費用</dt><dd><Lines text={ev.fee} /></dd></> : null}
        {ev.application ? <><dt>申込み</dt><dd><Lines text={ev.application} /></dd></> : null}
        {ev.contact ? <><dt>問合せ</dt><dd><Lines text={ev.contact} /></dd></> : null}
      </dl>
      <p>
        <a href={props.icsHref} download="" data-testid="ical-link">カレンダーに追加（iCal形式のファイル）</a>
      </p>
    </section>
  );
}

/** スポット: the details table, with a 地理院地図 link. */
export function SpotInfo(props: { spot: SpotFields; title: string }) {
  const s = props.spot;
  return (
    <section class="spot-info" aria-labelledby="spot-info-title">
      <h2 id="spot-info-title">施設の情報</h2>
      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">{props.title}の所在地・開館時間・連絡先</caption>
          <tbody>
            <tr>
              <th scope="row">所在地</th>
              <td>
                {s.address}
                <br />
                <a href={gsiMapUrl(s.lat, s.lng)} rel="noopener" target="_blank">地図で見る（地理院地図・新しいウィンドウで開きます）</a>
              </td>
            </tr>
            {s.hours || s.weeklyHours.length ? (
              <tr>
                <th scope="row">開館時間・営業時間</th>
                <td>
                  {s.hours ? <Lines text={s.hours} /> : null}
                  {s.weeklyHours.length ? (
                    <ul class="spot-hours">
                      {[...s.weeklyHours].sort((a, b) => a.weekday - b.weekday).map((h) => (
                        <li>{WEEKDAYS_JA[h.weekday]}曜日: {formatTimeRangeJa(h.open, h.close)}</li>
                      ))}
                    </ul>
                  ) : null}
                </td>
              </tr>
            ) : null}
            {s.closedDays ? <tr><th scope="row">休館日・定休日</th><td><Lines text={s.closedDays} /></td></tr> : null}
            {s.phone ? <tr><th scope="row">電話番号</th><td><a href={`tel:${s.phone.replace(/[^0-9+]/g, '')}`}>{s.phone}</a></td></tr> : null}
            {s.url ? <tr><th scope="row">ホームページ</th><td><a href={s.url} rel="noopener">{s.url}</a></td></tr> : null}
            {s.accessibility ? <tr><th scope="row">バリアフリー情報</th><td><Lines text={s.accessibility} /></td></tr> : null}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** 記事・インタビュー: lead and byline before the body. */
export function ArticleHeader(props: { article: ArticleFields; interview: boolean; publishedAt: string | null }) {
  const a = props.article;
  return (
    <div class="article-header">
      {a.lead ? <p class="lead">{a.lead}</p> : null}
      {a.author || a.interviewee ? (
        <p class="byline">
          {props.interview && a.interviewee ? <>お話を伺った方: {a.interviewee}</> : null}
          {props.interview && a.interviewee && a.author ? '　' : null}
          {a.author ? <>文: {a.author}</> : null}
        </p>
      ) : null}
      {props.publishedAt ? (
        <p class="page-date">
          掲載日: <time datetime={props.publishedAt}>{formatInstantDateJa(props.publishedAt)}</time>
        </p>
      ) : null}
    </div>
  );
}

export function PhotoCredit(props: { credit: string }) {
  return <p class="photo-credit">写真: {props.credit}</p>;
}

/** 動画: the player (privacy-enhanced YouTube or Vimeo) with a title, length and description. */
export function VideoPlayer(props: { video: VideoFields; title: string }) {
  const v = props.video;
  const src = embedUrl(v.url);
  return (
    <div class="video-block">
      {src ? (
        <div class="video-frame">
          <iframe src={src} title={`動画: ${props.title}`} loading="lazy" allow="encrypted-media; picture-in-picture; fullscreen" allowfullscreen referrerpolicy="strict-origin-when-cross-origin"></iframe>
        </div>
      ) : null}
      <p class="video-meta">
        {v.durationSeconds !== null ? <>再生時間: {formatDuration(v.durationSeconds)}　</> : null}
        <a href={v.url} rel="noopener">動画を配信サイトで見る</a>
        {v.transcript ? <>　<a href="#video-transcript-title">動画の内容を文字で読む</a></> : null}
      </p>
      {v.description ? <p class="video-description"><Lines text={v.description} /></p> : null}
    </div>
  );
}

export function VideoTranscript(props: { transcript: string }) {
  return (
    <section class="video-transcript" aria-labelledby="video-transcript-title">
      <h2 id="video-transcript-title">動画の内容（文字起こし）</h2>
      <div class="transcript"><Lines text={props.transcript} /></div>
    </section>
  );
}

/** The page's categories (links to their pages) and tags. */
export function PageTaxonomy(props: { prefix: string; categories: CategoryRecord[]; tags: string[]; search: (tag: string) => string }) {
  if (!props.categories.length && !props.tags.length) return null;
  return (
    <section class="page-taxonomy" aria-labelledby="page-taxonomy-title">
      <h2 id="page-taxonomy-title" class="visually-hidden">このページの分類</h2>
      {props.categories.length ? (
        <p>
          分野:{' '}
          {props.categories.map((c, i) => (
            <>
              {i ? '、' : ''}
              <a href={`${props.prefix}/category/${c.slug}/`}>{c.name}</a>
            </>
          ))}
        </p>
      ) : null}
      {props.tags.length ? (
        <p>
          キーワード:{' '}
          {props.tags.map((t, i) => (
            <>
              {i ? '、' : ''}
              <a href={props.search(t)}>{t}</a>
            </>
          ))}
        </p>
      ) : null}
    </section>
  );
}

/** 「このページに関するお問い合わせ」: the department in charge and how to reach it. */
export function ContactBlock(props: { contact: DepartmentContact }) {
  const c = props.contact;
  return (
    <section class="contact-block" aria-labelledby="contact-block-title">
      <h2 id="contact-block-title">このページに関するお問い合わせ</h2>
      <p class="contact-name">{c.name}</p>
      <dl class="meta">
        {c.address ? <><dt>所在地</dt><dd>{c.address}</dd></> : null}
        {c.phone ? <><dt>電話番号</dt><dd><a href={`tel:${c.phone.replace(/[^0-9+]/g, '')}`}>{c.phone}</a></dd></> : null}
        {c.fax ? <><dt>FAX番号</dt><dd>{c.fax}</dd></> : null}
        {c.email ? <><dt>メール</dt><dd><a href={`mailto:${c.email}`}>{c.email}</a></dd></> : null}
        {c.hours ? <><dt>受付時間</dt><dd>{c.hours}</dd></> : null}
      </dl>
    </section>
  );
}

// ---------------------------------------------------------------- JSON-LD

export { jsonForScript, JsonLd };


const SCHEMA_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

/** schema.org Event of an event page. */
export function eventJsonLd(ctx: PublicPageContext, ev: EventFields): Record<string, unknown> {
  const days = eventDayList(ev);
  const first = days[0];
  const last = days[days.length - 1];
  const at = (date: string | undefined, time: string | null) => (date ? (time ? `${date}T${time}:00+09:00` : date) : undefined);
  const place: Record<string, unknown> = { '@type': 'Place', name: ev.venue || ev.address || ctx.site.name };
  if (ev.address) place.address = { '@type': 'PostalAddress', streetAddress: ev.address, addressCountry: 'JP' };
  if (ev.lat !== null && ev.lng !== null) place.geo = { '@type': 'GeoCoordinates', latitude: ev.lat, longitude: ev.lng };
  const data: Record<string, unknown> = {
    '@context': 'https://schema.org',
    '@type': 'Event',
    name: ctx.version.title,
    url: ctx.url,
    startDate: at(first, ev.startTime),
    endDate: at(last, ev.endTime ?? ev.startTime),
    eventStatus: 'https://schema.org/EventScheduled',
    eventAttendanceMode: 'https://schema.org/OfflineEventAttendanceMode',
    location: place,
    organizer: { '@type': 'Organization', name: ctx.site.name, url: `${origin(ctx.url)}${ctx.prefix}/` },
  };
  if (ctx.version.summary) data.description = ctx.version.summary;
  if (ev.dates.kind === 'weekly') {
    data.eventSchedule = {
      '@type': 'Schedule',
      repeatFrequency: 'P1W',
      byDay: [...new Set(ev.dates.weekdays)].sort().map((w) => `https://schema.org/${SCHEMA_DAYS[w]}`),
      startDate: first,
      endDate: last,
      ...(ev.startTime ? { startTime: `${ev.startTime}:00` } : {}),
      ...(ev.endTime ? { endTime: `${ev.endTime}:00` } : {}),
      scheduleTimezone: 'Asia/Tokyo',
    };
  }
  return data;
}

/** schema.org Article of an article or interview page; the site is the publisher (and author unless named). */
export function articleJsonLd(ctx: PublicPageContext, a: ArticleFields | null): Record<string, unknown> {
  const publisher = { '@type': 'Organization', name: ctx.site.name, url: `${origin(ctx.url)}${ctx.prefix}/` };
  const data: Record<string, unknown> = {
    '@context': 'https://schema.org',
    '@type': 'Article',
    headline: ctx.version.title.slice(0, 110),
    url: ctx.url,
    mainEntityOfPage: ctx.url,
    datePublished: ctx.node.published_at ?? ctx.version.created_at,
    dateModified: ctx.version.created_at,
    author: a?.author ? { '@type': 'Person', name: a.author } : publisher,
    publisher,
  };
  if (a?.lead || ctx.version.summary) data.description = a?.lead || ctx.version.summary;
  return data;
}
