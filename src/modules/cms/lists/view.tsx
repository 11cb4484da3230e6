/**
 * How a list looks on the public site (C-3-2, C-3-3): each item shows the columns the
 * administrators chose, in their order; 緊急, 重要 and categories are text badges with distinct
 * styles (never colour alone). Also the RSS 2.0 feed of a list.
 */
import type { Child } from 'hono/jsx';
import { Parser } from 'htmlparser2';
import { xmlEscape } from '../feeds.js';
import { pageCategories, pageDepartment } from '../types/fields.js';
import { formatListDate, jstDay, type ListConfig } from './config.js';
import type { ListItem } from './service.js';

/** Names the columns show: categories of the site, departments, page type labels. */
export interface ListLabels {
  prefix: string;
  categories: Map<number, string>;
  departments: Map<number, string>;
  pageType: (key: string) => string;
}

/** The address of a list's own page and feed inside the site. */
export const listPagePath = (listId: number) => `/lists/${listId}/`;
export const listFeedPath = (listId: number) => `/lists/${listId}/feed.xml`;

/** Plain text of a sanitised body, shortened. */
export function bodyText(html: string, max = 100): string {
  let text = '';
  const parser = new Parser({ ontext: (t) => void (text += t) }, { decodeEntities: true });
  parser.write(html.replace(/<\/(p|h[1-6]|li|tr|div|br)\s*>|<br\s*\/?>/gi, (m) => `${m} `));
  parser.end();
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The first image of a body (its address), for the thumbnail column; only site-relative or https sources. */
export function firstImage(html: string): string | null {
  let src: string | null = null;
  const parser = new Parser({
    onopentag(name, attrs) {
      if (src === null && name === 'img' && attrs.src && (/^\/(?!\/)/.test(attrs.src) || attrs.src.startsWith('https://'))) src = attrs.src;
    },
  });
  parser.write(html);
  parser.end();
  return src;
}

/** 緊急 and 重要 as text badges; 緊急 is the strongest. */
export function Marks(props: { urgent: boolean; important: boolean }) {
  if (!props.urgent && !props.important) return null;
  return (
    <span class="list-marks">
      {props.urgent ? <span class="mark mark--urgent">緊急</span> : null}
      {props.important ? <span class="mark mark--important">重要</span> : null}
    </span>
  );
}

function eventDates(item: ListItem, list: ListConfig): string | null {
  if (!item.eventFirst) return null;
  const first = formatListDate(item.eventFirst, list.dateFormat);
  return item.eventLast && item.eventLast !== item.eventFirst ? `${first}～${formatListDate(item.eventLast, list.dateFormat)}` : first;
}

function Column(props: { col: ListConfig['columns'][number]; item: ListItem; list: ListConfig; labels: ListLabels }): Child {
  const { col, item, list, labels } = props;
  switch (col) {
    case 'date':
      return item.publishedAt ? <time class="list-item__date" datetime={jstDay(item.publishedAt)}>{formatListDate(item.publishedAt, list.dateFormat)}</time> : null;
    case 'marks':
      return <Marks urgent={item.urgent} important={item.important} />;
    case 'title':
      return <a class="list-item__title" href={`${labels.prefix}${item.path}`}>{item.title}</a>;
    case 'category': {
      const names = pageCategories(item.fields).flatMap((id) => (labels.categories.has(id) ? [labels.categories.get(id)!] : []));
      return names.length ? (
        <span class="list-item__categories">
          <span class="visually-hidden">分野: </span>
          {names.map((n) => <span class="mark mark--category">{n}</span>)}
        </span>
      ) : null;
    }
    case 'department': {
      const id = pageDepartment(item.fields) ?? item.organizationId;
      const name = id === null ? undefined : labels.departments.get(id);
      return name ? <span class="list-item__department">担当: {name}</span> : null;
    }
    case 'summary': {
      const text = item.summary ?? (item.bodyHtml ? bodyText(item.bodyHtml) : '');
      return text ? <p class="list-item__summary">{text}</p> : null;
    }
    case 'thumbnail': {
      const src = item.bodyHtml ? firstImage(item.bodyHtml) : null;
      // The title next to it names the item: the thumbnail is decorative.
      return src ? <img class="list-item__thumb" src={src} alt="" loading="lazy" width="120" height="80" /> : null;
    }
    case 'pageType':
      return <span class="list-item__type">{labels.pageType(item.pageType)}</span>;
    case 'eventDate': {
      const when = eventDates(item, list);
      return when ? <span class="list-item__event">開催日: {when}</span> : null;
    }
    default:
      return null;
  }
}

/** Whether a list's columns need the live bodies (thumbnail, or a summary of pages without one). */
export const needsBody = (list: ListConfig) => list.columns.includes('thumbnail') || list.columns.includes('summary');

/** The items of a list as a `<ul>`, each item's columns in the administrators' order. */
export function ListItems(props: { list: ListConfig; items: ListItem[]; labels: ListLabels }) {
  if (!props.items.length) return <p class="auto-list__empty">現在、掲載している情報はありません。</p>;
  return (
    <ul class="auto-list__items">
      {props.items.map((item) => (
        <li class={`list-item${item.urgent ? ' list-item--urgent' : ''}${item.pinned ? ' list-item--pinned' : ''}`} data-node-id={String(item.nodeId)}>
          {props.list.columns.map((col) => <Column col={col} item={item} list={props.list} labels={props.labels} />)}
        </li>
      ))}
    </ul>
  );
}

/** A list as placed after a page's body: heading, items, もっと見る and the RSS link. */
export function ListBlock(props: { list: ListConfig; items: ListItem[]; hasMore: boolean; labels: ListLabels }) {
  const { list, labels } = props;
  const titleId = `auto-list-${list.id}-title`;
  return (
    <section class="auto-list" aria-labelledby={titleId} data-list-id={String(list.id)}>
      <h2 id={titleId}>{list.heading}</h2>
      <ListItems list={list} items={props.items} labels={labels} />
      <p class="auto-list__links">
        {list.showMore ? <a href={`${labels.prefix}${listPagePath(list.id)}`}>{list.heading}をもっと見る</a> : null}
        <a href={`${labels.prefix}${listFeedPath(list.id)}`} type="application/rss+xml">{list.heading}のRSS</a>
      </p>
    </section>
  );
}

/** RFC 822 date for RSS 2.0. */
const rfc822 = (value: string | null) => new Date(value ?? 0).toUTCString();

/**
 * RSS 2.0 of a list: the same items in the same order as the page shows.
 * @example rssFeed({ list, items, siteName, base: 'https://city.example/', hostUrl, selfUrl, hostname, siteKey, labels })
 */
export function rssFeed(o: { list: ListConfig; items: ListItem[]; siteName: string; base: string; hostUrl: string; selfUrl: string; hostname: string; siteKey: string; labels: ListLabels }): string {
  const newest = o.items.map((i) => i.publishedAt ?? '').sort().at(-1) || null;
  const items = o.items.map((i) => {
    const cats = pageCategories(i.fields).flatMap((id) => (o.labels.categories.has(id) ? [o.labels.categories.get(id)!] : []));
    const marks = [i.urgent ? '緊急' : '', i.important ? '重要' : ''].filter(Boolean);
    const text = i.summary ?? (i.bodyHtml ? bodyText(i.bodyHtml, 200) : '');
    return [
      '<item>',
      `<title>${xmlEscape(marks.length ? `【${marks.join('・')}】${i.title}` : i.title)}</title>`,
      `<link>${xmlEscape(`${o.base}${i.path}`)}</link>`,
      `<guid isPermaLink="false">${xmlEscape(`tag:${o.hostname},${jstDay(i.createdAt)}:${o.siteKey}/${i.nodeId}`)}</guid>`,
      i.publishedAt ? `<pubDate>${rfc822(i.publishedAt)}</pubDate>` : '',
      ...cats.map((c) => `<category>${xmlEscape(c)}</category>`),
      text ? `<description>${xmlEscape(text)}</description>` : '',
      '</item>',
    ].join('');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
    '<channel>',
    `<title>${xmlEscape(`${o.siteName} ${o.list.heading}`)}</title>`,
    `<link>${xmlEscape(o.hostUrl)}</link>`,
    `<description>${xmlEscape(`${o.siteName}の「${o.list.heading}」`)}</description>`,
    '<language>ja</language>',
    `<lastBuildDate>${rfc822(newest)}</lastBuildDate>`,
    `<atom:link href="${xmlEscape(o.selfUrl)}" rel="self" type="application/rss+xml"/>`,
    '<generator>Machimado</generator>',
    ...items,
    '</channel>',
    '</rss>',
    '',
  ].join('\n');
}
