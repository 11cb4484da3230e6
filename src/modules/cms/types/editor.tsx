import type { Child } from 'hono/jsx';
import { list, str, type FormValues } from '../../../core/http/validate.js';
import { CheckboxGroup, SelectField, TextArea, TextField, type FieldErrors } from '../../../core/ui/forms.js';
import type { View } from '../../../core/ui/view.js';
import type { CategoryRecord } from './categories.js';
import { JAPAN_BOUNDS, WEEKDAYS_JA } from './fields.js';
import { EVENT_DATE_KINDS } from './form.js';

/** The page types' inputs inside the page editor (shown only for the page's own type). */

const fieldId = (name: string) => `f-${name}`.replace(/[^a-zA-Z0-9_-]/g, '_');

function Checkbox(props: { name: string; label: string; checked: boolean; hint?: string }) {
  const id = fieldId(props.name);
  return (
    <div class="checkbox field">
      <input type="checkbox" id={id} name={props.name} value="1" checked={props.checked} aria-describedby={props.hint ? `${id}-hint` : undefined} />
      <label for={id}>{props.label}</label>
      {props.hint ? <span class="field__hint" id={`${id}-hint`}>{props.hint}</span> : null}
    </div>
  );
}

/** Radio buttons in a fieldset; the fieldset carries the id errors link to. */
function RadioGroup(props: { name: string; label: string; value: string; options: ReadonlyArray<{ value: string; label: string }>; errors?: FieldErrors }) {
  const id = fieldId(props.name);
  const err = props.errors?.[props.name];
  return (
    <fieldset class="field" id={id} aria-describedby={err ? `${id}-error` : undefined}>
      <legend>{props.label}</legend>
      {err ? <span class="field__error" id={`${id}-error`}>{err}</span> : null}
      {props.options.map((o, i) => (
        <div class="checkbox">
          <input type="radio" id={`${id}-${i}`} name={props.name} value={o.value} checked={props.value === o.value} />
          <label for={`${id}-${i}`}>{o.label}</label>
        </div>
      ))}
    </fieldset>
  );
}

function Group(props: { legend: string; testid: string; children: Child }) {
  return (
    <fieldset class="page-type-fields" data-testid={props.testid}>
      <legend>{props.legend}</legend>
      {props.children}
    </fieldset>
  );
}

const LAT_HINT = `半角数字（世界測地系）。例: 35.6074。日本の範囲（${JAPAN_BOUNDS.latMin}〜${JAPAN_BOUNDS.latMax}）。地理院地図で場所を右クリックすると表示されます。`;
const LNG_HINT = `半角数字。例: 140.1065。日本の範囲（${JAPAN_BOUNDS.lngMin}〜${JAPAN_BOUNDS.lngMax}）。`;

export function NewsEditor(props: { v: View; values: FormValues; errors?: FieldErrors }) {
  const { v, values, errors } = props;
  return (
    <Group legend="お知らせの設定" testid="news-fields">
      <Checkbox name="news_urgent" label="緊急（災害・休止など、すぐに知らせる必要があるもの）" checked={str(values.news_urgent) === '1'} />
      <Checkbox name="news_important" label="重要" checked={str(values.news_important) === '1'} />
      <TextField v={v} name="news_end" type="date" label="掲載期間の目安（任意）" value={str(values.news_end)} errors={errors} hint="この日を過ぎたら掲載を見直します（閲覧者にも表示）。自動で公開を終えるには「公開の予約」を使ってください。" />
    </Group>
  );
}

export function EventEditor(props: { v: View; values: FormValues; errors?: FieldErrors }) {
  const { v, values, errors } = props;
  const kind = str(values.event_kind) || 'single';
  const weekdays = list(values.event_weekdays);
  return (
    <Group legend="イベントの情報" testid="event-fields">
      <RadioGroup name="event_kind" label="開催日の決め方" value={kind} options={EVENT_DATE_KINDS} errors={errors} />
      <TextField v={v} name="event_date" type="date" label="開催日（1日だけのとき）" value={str(values.event_date)} errors={errors} />
      <TextField v={v} name="event_from" type="date" label="開始日（期間・毎週のとき）" value={str(values.event_from)} errors={errors} />
      <TextField v={v} name="event_to" type="date" label="終了日（期間・毎週のとき）" value={str(values.event_to)} errors={errors} />
      <CheckboxGroup v={v} name="event_weekdays" label="曜日（毎週のとき）" values={weekdays} options={WEEKDAYS_JA.map((w, i) => ({ value: String(i), label: `${w}曜日` }))} errors={errors} />
      <TextArea v={v} name="event_dates" label="開催日（日付を指定するとき）" value={str(values.event_dates)} rows={3} errors={errors} hint="1行に1日ずつ（例: 2026-05-10）。" />
      <TextField v={v} name="event_start" type="text" label="開始時刻（任意）" value={str(values.event_start)} errors={errors} hint="例: 10:00。空欄なら終日。" inputmode="numeric" />
      <TextField v={v} name="event_end" type="text" label="終了時刻（任意）" value={str(values.event_end)} errors={errors} hint="例: 11:30" inputmode="numeric" />
      <TextField v={v} name="event_venue" label="会場名" value={str(values.event_venue)} errors={errors} />
      <TextField v={v} name="event_address" label="会場の住所" value={str(values.event_address)} errors={errors} autocomplete="off" />
      <TextField v={v} name="event_lat" label="会場の緯度（地図表示用・任意）" value={str(values.event_lat)} errors={errors} hint={LAT_HINT} inputmode="decimal" />
      <TextField v={v} name="event_lng" label="会場の経度（地図表示用・任意）" value={str(values.event_lng)} errors={errors} hint={LNG_HINT} inputmode="decimal" />
      <TextField v={v} name="event_target" label="対象" value={str(values.event_target)} errors={errors} hint="例: 市内在住の小学生と保護者" />
      <TextField v={v} name="event_fee" label="費用" value={str(values.event_fee)} errors={errors} hint="例: 無料、500円（材料費）" />
      <TextArea v={v} name="event_application" label="申込み" value={str(values.event_application)} rows={3} errors={errors} hint="方法・期限・定員など。不要なら「申込み不要」。" />
      <TextArea v={v} name="event_contact" label="問合せ" value={str(values.event_contact)} rows={2} errors={errors} />
    </Group>
  );
}

export function SpotEditor(props: { v: View; values: FormValues; errors?: FieldErrors }) {
  const { v, values, errors } = props;
  return (
    <Group legend="スポット（施設）の情報" testid="spot-fields">
      <TextField v={v} name="spot_address" label="住所" required value={str(values.spot_address)} errors={errors} />
      <TextField v={v} name="spot_lat" label="緯度" required value={str(values.spot_lat)} errors={errors} hint={LAT_HINT} inputmode="decimal" />
      <TextField v={v} name="spot_lng" label="経度" required value={str(values.spot_lng)} errors={errors} hint={LNG_HINT} inputmode="decimal" />
      <TextArea v={v} name="spot_hours" label="開館時間・営業時間" value={str(values.spot_hours)} rows={2} errors={errors} hint="例: 9時～17時（入館は16時30分まで）" />
      <div class="table-wrap">
        <table class="weekly-hours">
          <caption>曜日ごとの時間（任意・地図やリストの「開館中」表示に使います）</caption>
          <thead>
            <tr><th scope="col">曜日</th><th scope="col">開始</th><th scope="col">終了</th></tr>
          </thead>
          <tbody>
            {WEEKDAYS_JA.map((w, wd) => {
              const open = `spot_wh_${wd}_open`;
              const close = `spot_wh_${wd}_close`;
              const err = errors?.[open] ?? errors?.[close];
              return (
                <tr>
                  <th scope="row">{w}曜日</th>
                  <td>
                    <label for={fieldId(open)} class="visually-hidden">{w}曜日の開始時刻</label>
                    <input type="time" id={fieldId(open)} name={open} value={str(values[open])} aria-invalid={errors?.[open] ? 'true' : undefined} aria-describedby={err ? `${fieldId(open)}-error` : undefined} />
                    {err ? <span class="field__error" id={`${fieldId(open)}-error`}>{err}</span> : null}
                  </td>
                  <td>
                    <label for={fieldId(close)} class="visually-hidden">{w}曜日の終了時刻</label>
                    <input type="time" id={fieldId(close)} name={close} value={str(values[close])} aria-invalid={errors?.[close] ? 'true' : undefined} aria-describedby={err ? `${fieldId(open)}-error` : undefined} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <TextArea v={v} name="spot_closed" label="休館日・定休日" value={str(values.spot_closed)} rows={2} errors={errors} hint="例: 月曜日（祝日の場合は翌日）、年末年始（12月29日～1月3日）" />
      <TextField v={v} name="spot_phone" type="tel" label="電話番号" value={str(values.spot_phone)} errors={errors} hint="例: 043-123-4567" />
      <TextField v={v} name="spot_url" type="url" label="ホームページのURL" value={str(values.spot_url)} errors={errors} />
      <TextArea v={v} name="spot_accessibility" label="バリアフリー情報" value={str(values.spot_accessibility)} rows={3} errors={errors} hint="車いす用トイレ、段差、エレベーター、駐車場、補助犬など。" />
    </Group>
  );
}

export function ArticleEditor(props: { v: View; values: FormValues; errors?: FieldErrors; interview: boolean }) {
  const { v, values, errors } = props;
  return (
    <Group legend={props.interview ? 'インタビューの情報' : '記事の情報'} testid="article-fields">
      <TextArea v={v} name="article_lead" label="リード文" value={str(values.article_lead)} rows={3} errors={errors} hint="本文の前に表示する短い紹介文。" />
      {props.interview ? <TextField v={v} name="article_interviewee" label="お話を伺った方" value={str(values.article_interviewee)} errors={errors} hint="例: あおば農園 代表 山田花子さん" /> : null}
      <TextField v={v} name="article_author" label="執筆者（任意）" value={str(values.article_author)} errors={errors} hint="空欄ならサイト名を著者とします。" />
      <TextField v={v} name="article_credit" label="写真提供（任意）" value={str(values.article_credit)} errors={errors} />
      {props.interview ? <p class="field__hint">質問と答えは、本文で質問を見出し（見出し2・3）にして書いてください。</p> : null}
    </Group>
  );
}

export function VideoEditor(props: { v: View; values: FormValues; errors?: FieldErrors }) {
  const { v, values, errors } = props;
  return (
    <Group legend="動画の情報" testid="video-fields">
      <TextField v={v} name="video_url" type="url" label="動画のURL" required value={str(values.video_url)} errors={errors} hint="YouTube または Vimeo のURL。YouTube はプライバシー強化モード（youtube-nocookie.com）で埋め込みます。" />
      <TextField v={v} name="video_duration" label="再生時間（任意）" value={str(values.video_duration)} errors={errors} hint="例: 3:20、3分20秒" />
      <TextArea v={v} name="video_description" label="動画の説明" value={str(values.video_description)} rows={3} errors={errors} />
      <TextArea v={v} name="video_transcript" label="文字起こし・字幕の内容" value={str(values.video_transcript)} rows={8} errors={errors} hint="音声を聞けない方のため、話している内容と大事な音・映像の説明を書いてください（アクセシビリティ）。" />
    </Group>
  );
}

/** Categories, tags and the 担当課, for every page type. */
export function TaxonomyEditor(props: {
  v: View;
  values: FormValues;
  errors?: FieldErrors;
  categories: CategoryRecord[];
  departments: Array<{ id: number; name: string }>;
  nodeDepartment: string | null;
}) {
  const { v, values, errors } = props;
  const chosen = list(values.categories);
  const names = new Map(props.categories.map((c) => [c.id, c.name]));
  return (
    <fieldset class="page-type-fields" data-testid="taxonomy-fields">
      <legend>分類と担当課</legend>
      {props.categories.length ? (
        <CheckboxGroup
          v={v}
          name="categories"
          label="分野"
          values={chosen}
          options={props.categories.map((c) => ({ value: String(c.id), label: c.parentId !== null ? `${names.get(c.parentId) ?? ''} ＞ ${c.name}` : c.name }))}
          errors={errors}
          hint="このページを一覧に載せる分野（複数可）。小分類を選ぶと大分類の一覧にも載ります。"
        />
      ) : (
        <p class="field__hint">このサイトには分野がまだありません（「分野の管理」で作成できます）。</p>
      )}
      <TextField v={v} name="tags" label="キーワード（タグ）" value={str(values.tags)} errors={errors} hint="読点（、）かカンマで区切って入力（例: 子育て、健診）。" />
      <SelectField
        v={v}
        name="department"
        label="担当課（お問い合わせ先）"
        value={str(values.department)}
        emptyLabel={props.nodeDepartment ? `ページの所属組織（${props.nodeDepartment}）` : 'ページの所属組織'}
        options={props.departments.map((d) => ({ value: d.id, label: d.name }))}
        errors={errors}
        hint="ページの下の「このページに関するお問い合わせ」に表示します。"
      />
    </fieldset>
  );
}
