import type { Child } from 'hono/jsx';
import type { MenuEntry } from '../../../core/module.js';
import { AdminLayout } from '../../../core/ui/layout.js';
import { formatDateTime, type View } from '../../../core/ui/view.js';
import { Checkbox, Csrf, ErrorSummary, Notice, Pagination, SelectField, TextArea, TextField, type FieldErrors } from '../../../core/ui/forms.js';
import { registerAsset } from '../../../core/ui/assets.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Site } from '../sites.js';
import { ACCEPT, formatBytes, typeForExtension } from './files.js';
import { bodyUrl, documentLinkText, mediaUrl } from './markup.js';
import type { MediaItem, MediaUse } from './service.js';
import type { MediaVariant } from './schema.js';

const cssPath = registerAsset('media.css', readFileSync(fileURLToPath(new URL('./media.css', import.meta.url)), 'utf8'), 'text/css; charset=utf-8');

export const LABELS: Record<string, string> = { siteId: '登録先のサイト', file: 'ファイル', alt: '代替テキスト', title: 'タイトル', description: '説明' };
const KIND_LABEL: Record<string, string> = { image: '画像', document: '文書' };
const STATUS: Record<string, string> = { draft: '下書き', published: '公開中', withdrawn: '非公開', trashed: 'ごみ箱' };

export const typeLabel = (m: MediaItem) => typeForExtension(m.extension)?.label ?? m.extension.toUpperCase();

/** The smallest stored image, for thumbnails. */
export function thumbnail(m: MediaItem): MediaVariant | undefined {
  return [...m.variants].filter((v) => v.width).sort((a, b) => (a.width ?? 0) - (b.width ?? 0))[0];
}

function Thumb(props: { m: MediaItem; max: number }) {
  const t = thumbnail(props.m);
  if (props.m.kind !== 'image' || !t || !props.m.width || !props.m.height) return <span class="media-doc-badge">{typeLabel(props.m)}</span>;
  const scale = Math.min(1, props.max / Math.max(props.m.width, props.m.height));
  // The name is in the next cell: the thumbnail adds nothing for a screen reader.
  return <img src={mediaUrl('/admin/cms', props.m, t)} alt="" width={Math.round(props.m.width * scale)} height={Math.round(props.m.height * scale)} loading="lazy" />;
}

function Page(props: { v: View; menu: MenuEntry[]; title: string; children: Child }) {
  return (
    <AdminLayout v={props.v} title={props.title} menu={props.menu}>
      <link rel="stylesheet" href={cssPath} />
      {props.children}
    </AdminLayout>
  );
}

const fileHint = (limits: { imageBytes: number; documentBytes: number }) =>
  `画像（JPEG・PNG・GIF・WebP、${formatBytes(limits.imageBytes)}まで）、文書（PDF・Word・Excel・PowerPoint・ODT・ODS・テキスト・CSV、${formatBytes(limits.documentBytes)}まで）。SVG画像は中にプログラムを含められるため登録できません。写真の位置情報（GPS）などは登録時に削除します。`;

export function UploadForm(props: { v: View; sites: Site[]; values: Record<string, string>; errors?: FieldErrors; limits: { imageBytes: number; documentBytes: number } }) {
  const { v, values, errors } = props;
  const fileError = errors?.file;
  return (
    <section aria-labelledby="upload-title">
      <h2 id="upload-title">ファイルの登録</h2>
      <form method="post" action="/admin/cms/media/upload" enctype="multipart/form-data" class="form" novalidate>
        <Csrf v={v} />
        {props.sites.length > 1 ? (
          <SelectField v={v} name="siteId" label={LABELS.siteId!} value={values.siteId} options={props.sites.map((s) => ({ value: s.id, label: s.name }))} errors={errors} required />
        ) : (
          <input type="hidden" name="siteId" value={String(props.sites[0]?.id ?? '')} />
        )}
        <div class="field">
          <label for="f-file">
            {LABELS.file}
            <span class="badge-required">{v.t('common.required')}</span>
          </label>
          <span class="field__hint" id="f-file-hint">{fileHint(props.limits)}</span>
          {fileError ? <span class="field__error" id="f-file-error">{fileError}（もう一度ファイルを選んでください）</span> : null}
          <input type="file" id="f-file" name="file" accept={ACCEPT} required aria-invalid={fileError ? 'true' : undefined} aria-describedby={fileError ? 'f-file-hint f-file-error' : 'f-file-hint'} />
        </div>
        <TextField v={v} name="alt" label="代替テキスト（画像）" value={values.alt} errors={errors} hint="画像の内容を短い文で書きます（例: 「あおば川の桜並木」）。ページに入れるときの初期値になります。" />
        <Checkbox name="decorative" label="装飾のための画像（代替テキスト不要）" checked={values.decorative === '1'} />
        <TextField v={v} name="title" label="タイトル（文書）" value={values.title} errors={errors} hint="リンクの文字になります（例: 「令和7年度 会議録」）。空欄ならファイル名を使います。" />
        <TextArea v={v} name="description" label="説明" value={values.description} errors={errors} rows={2} />
        <div class="actions">
          <button type="submit">登録する</button>
        </div>
      </form>
    </section>
  );
}

export interface ListState {
  sites: Site[];
  items: MediaItem[];
  total: number;
  limit: number;
  offset: number;
  useCounts: Map<number, number>;
  uploaders: Map<number, string>;
  filter: { siteId: string; kind: string; q: string };
}

export function MediaListPage(props: { v: View; menu: MenuEntry[]; state: ListState; upload: { values: Record<string, string>; errors?: FieldErrors }; notice?: string; limits: { imageBytes: number; documentBytes: number } }) {
  const { v, state } = props;
  const baseQuery = new URLSearchParams(Object.entries(state.filter).filter(([, x]) => x));
  return (
    <Page v={v} menu={props.menu} title="メディアライブラリ">
      {props.notice ? <Notice kind="success"><p>{props.notice}</p></Notice> : null}
      <ErrorSummary v={v} errors={props.upload.errors} labels={LABELS} />
      {state.sites.length ? <UploadForm v={v} sites={state.sites} values={props.upload.values} errors={props.upload.errors} limits={props.limits} /> : <p>ファイルを登録できるサイトがありません。</p>}
      <section aria-labelledby="list-title">
        <h2 id="list-title">登録済みのファイル</h2>
        <form method="get" action="/admin/cms/media" class="media-filter" role="search" aria-label="ファイルの絞り込み">
          {state.sites.length > 1 ? (
            <SelectField v={v} name="site" label="サイト" value={state.filter.siteId} options={state.sites.map((s) => ({ value: s.id, label: s.name }))} emptyLabel="すべて" idPrefix="filter" />
          ) : null}
          <SelectField v={v} name="kind" label="種類" value={state.filter.kind} options={[{ value: 'image', label: '画像' }, { value: 'document', label: '文書' }]} emptyLabel="すべて" idPrefix="filter" />
          <TextField v={v} name="q" type="search" label="名前で検索" value={state.filter.q} idPrefix="filter" />
          <div class="actions"><button type="submit" class="button--secondary">絞り込む</button></div>
        </form>
        {state.items.length === 0 ? (
          <p>該当するファイルはありません。</p>
        ) : (
          <div class="table-wrap">
            <table class="media-table">
              <caption>登録済みのファイル（{state.total}件）</caption>
              <thead>
                <tr>
                  <th scope="col">サムネイル</th>
                  <th scope="col">名前</th>
                  <th scope="col">種類</th>
                  <th scope="col">サイズ</th>
                  <th scope="col">大きさ（ピクセル）</th>
                  <th scope="col">代替テキスト</th>
                  <th scope="col">登録者</th>
                  <th scope="col">登録日時</th>
                  <th scope="col">使用ページ</th>
                  <th scope="col">{v.t('common.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {state.items.map((m) => (
                  <tr>
                    <td><Thumb m={m} max={96} /></td>
                    <td>
                      <a href={`/admin/cms/media/${m.id}`}>{m.file_name}</a>
                      {m.title ? <><br />{m.title}</> : null}
                    </td>
                    <td>{KIND_LABEL[m.kind]}（{typeLabel(m)}）</td>
                    <td>{formatBytes(m.bytes)}</td>
                    <td>{m.width ? `${m.width}×${m.height}` : '—'}</td>
                    <td>{m.kind !== 'image' ? '—' : m.decorative ? '（装飾画像）' : m.alt || <strong>未設定</strong>}</td>
                    <td>{m.uploaded_by ? (state.uploaders.get(m.uploaded_by) ?? '—') : '—'}</td>
                    <td>{formatDateTime(m.created_at, v.locale)}</td>
                    <td>{state.useCounts.get(m.id) ?? 0}件</td>
                    <td>
                      <form method="post" action={`/admin/cms/media/${m.id}/delete`} class="inline-form">
                        <Csrf v={v} />
                        <button type="submit" class="button--danger button--small">削除<span class="visually-hidden">: {m.file_name}</span></button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pagination v={v} total={state.total} limit={state.limit} offset={state.offset} baseQuery={baseQuery} />
      </section>
    </Page>
  );
}

function UsesTable(props: { uses: MediaUse[]; caption: string }) {
  return (
    <div class="table-wrap">
      <table>
        <caption>{props.caption}</caption>
        <thead><tr><th scope="col">ページ</th><th scope="col">URL</th><th scope="col">ページの状態</th><th scope="col">使っている版</th></tr></thead>
        <tbody>
          {props.uses.map((u) => (
            <tr>
              <td><a href={`/admin/cms/nodes/${u.nodeId}`}>{u.title}</a></td>
              <td><code>{u.path}</code></td>
              <td>{STATUS[u.status] ?? u.status}</td>
              <td>{[u.inLive ? '公開中の版' : '', u.inDraft ? '下書き' : ''].filter(Boolean).join('・')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function MediaDetailPage(props: {
  v: View;
  menu: MenuEntry[];
  m: MediaItem;
  site: Site | undefined;
  uploader: string | undefined;
  uses: MediaUse[];
  isPublic: boolean;
  values: Record<string, string>;
  errors?: FieldErrors;
  notice?: string;
  deleteRefused?: boolean;
}) {
  const { v, m, uses } = props;
  const largest = [...m.variants].filter((x) => x.mime === m.mime).sort((a, b) => (b.width ?? 0) - (a.width ?? 0));
  const preview = largest.find((x) => (x.width ?? 0) <= 960) ?? largest[largest.length - 1];
  const openUrl = mediaUrl('/admin/cms', m, m.kind === 'image' ? 'original' : 'file');
  return (
    <Page v={v} menu={props.menu} title={`メディア: ${m.file_name}`}>
      {props.notice ? <Notice kind="success"><p>{props.notice}</p></Notice> : null}
      {props.deleteRefused ? (
        <div class="notice notice--error" role="alert">
          <p>このファイルは次の{uses.length}ページで使われているため削除できません。ページから外してから削除してください。</p>
        </div>
      ) : null}
      <ErrorSummary v={v} errors={props.errors} labels={LABELS} />
      {m.kind === 'image' && preview ? (
        <figure class="media-preview">
          <img src={mediaUrl('/admin/cms', m, preview)} alt={m.decorative ? '' : m.alt} width={preview.width ?? undefined} height={preview.height ?? undefined} />
          <figcaption>{m.decorative ? '装飾のための画像' : m.alt ? `代替テキスト: ${m.alt}` : '代替テキストは未設定です。'}</figcaption>
        </figure>
      ) : null}
      <dl class="meta">
        <dt>名前</dt><dd>{m.file_name}</dd>
        <dt>サイト</dt><dd>{props.site?.name ?? '—'}</dd>
        <dt>種類</dt><dd>{KIND_LABEL[m.kind]}（{typeLabel(m)}）</dd>
        <dt>サイズ</dt><dd>{formatBytes(m.bytes)}</dd>
        {m.width ? <><dt>大きさ</dt><dd>{m.width}×{m.height}ピクセル（{m.variants.filter((x) => x.key !== 'original').length}種類の縮小版・WebP版を作成済み）</dd></> : null}
        <dt>登録者</dt><dd>{props.uploader ?? '—'}</dd>
        <dt>登録日時</dt><dd>{formatDateTime(m.created_at, v.locale)}</dd>
        <dt>公開の状態</dt>
        <dd data-testid="media-public">{props.isPublic ? '公開中（公開ページで使われています）' : '非公開（公開中のページで使われるまで、一般の人は見られません）'}</dd>
        <dt>本文に入れるURL</dt><dd><code>{bodyUrl(m)}</code></dd>
        {m.kind === 'document' ? <><dt>リンクの文字</dt><dd>{documentLinkText(m)}</dd></> : null}
        <dt>ファイル</dt><dd><a href={openUrl}>ファイルを開く<span class="visually-hidden">: {m.file_name}</span></a></dd>
      </dl>

      <section aria-labelledby="details-title">
        <h2 id="details-title">{m.kind === 'image' ? '代替テキストと説明' : 'タイトルと説明'}</h2>
        <form method="post" action={`/admin/cms/media/${m.id}`} class="form" novalidate>
          <Csrf v={v} />
          {m.kind === 'image' ? (
            <>
              <TextField v={v} name="alt" label={LABELS.alt!} value={props.values.alt} errors={props.errors} hint="ページに画像を入れるときの初期値です。ページごとに書き換えられます。" />
              <Checkbox name="decorative" label="装飾のための画像（代替テキスト不要）" checked={props.values.decorative === '1'} />
            </>
          ) : null}
          <TextField v={v} name="title" label={LABELS.title!} value={props.values.title} errors={props.errors} hint={m.kind === 'document' ? 'ページにリンクを入れるときの文字になります。' : undefined} />
          <TextArea v={v} name="description" label={LABELS.description!} value={props.values.description} errors={props.errors} rows={3} />
          <div class="actions"><button type="submit">保存する</button><a href="/admin/cms/media">一覧へ戻る</a></div>
        </form>
      </section>

      <section aria-labelledby="uses-title">
        <h2 id="uses-title">使用しているページ（{uses.length}件）</h2>
        {uses.length ? <UsesTable uses={uses} caption="このファイルを使っているページ" /> : <p>このファイルを使っているページはありません。</p>}
      </section>

      <section aria-labelledby="delete-title">
        <h2 id="delete-title">削除</h2>
        {uses.length ? (
          <p>使用しているページがあるため削除できません。</p>
        ) : (
          <form method="post" action={`/admin/cms/media/${m.id}/delete`}>
            <Csrf v={v} />
            <p>削除すると元に戻せません。</p>
            <button type="submit" class="button--danger">このファイルを削除する</button>
          </form>
        )}
      </section>
    </Page>
  );
}

/** Inside the page editor: where the rich-text editor finds the site's library. */
export function EditorLibraryHook(props: { siteId: number }) {
  return <div hidden data-media-library={`/admin/cms/media/library.json?site=${props.siteId}`} data-media-upload="/admin/cms/media/upload" data-media-site={String(props.siteId)}></div>;
}

/** Below the page editor: the library files the working version uses. */
export function PageFilesPanel(props: { items: MediaItem[] }) {
  if (!props.items.length) return null;
  return (
    <section aria-labelledby="page-files-title">
      <h2 id="page-files-title">このページで使っているファイル</h2>
      <ul>
        {props.items.map((m) => (
          <li><a href={`/admin/cms/media/${m.id}`}>{m.kind === 'document' ? documentLinkText(m) : m.file_name}</a>{m.kind === 'image' && !m.alt && !m.decorative ? '（ライブラリの代替テキストは未設定）' : ''}</li>
        ))}
      </ul>
    </section>
  );
}
