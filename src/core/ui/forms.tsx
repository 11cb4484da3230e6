import type { Child } from 'hono/jsx';
import type { View } from './view.js';

export type FieldErrors = Record<string, string>;

/**
 * The id of a field's control. `prefix` keeps ids unique when one page repeats a form (one per
 * row or card): a repeated id would label only the first control for assistive technology.
 */
const fieldId = (name: string, prefix?: string) => `f-${prefix ? `${prefix}-` : ''}${name}`.replace(/[^a-zA-Z0-9_-]/g, '_');

/** CSRF token field; every POST form carries one. */
export function Csrf(props: { v: View }) {
  return <input type="hidden" name="_csrf" value={props.v.csrf} />;
}

/** Lists every error at the top with links to the fields, and takes focus (role=alert). */
export function ErrorSummary(props: { v: View; errors?: FieldErrors; labels?: Record<string, string>; idPrefix?: string }) {
  const entries = Object.entries(props.errors ?? {});
  if (entries.length === 0) return null;
  return (
    <div class="notice notice--error" role="alert" aria-labelledby="error-summary-title" tabindex={-1} id="error-summary">
      <h2 id="error-summary-title">{props.v.t('common.errorSummary')}</h2>
      <ul>
        {entries.map(([name, msg]) =>
          name === '_form' ? (
            <li>{msg}</li>
          ) : (
            <li>
              <a href={`#${fieldId(name, props.idPrefix)}`}>{props.labels?.[name] ? `${props.labels[name]}: ` : ''}{msg}</a>
            </li>
          ),
        )}
      </ul>
    </div>
  );
}

export function Notice(props: { kind: 'error' | 'success' | 'info' | 'warning'; children: Child }) {
  return (
    <div class={`notice notice--${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

interface BaseFieldProps {
  v: View;
  name: string;
  label: string;
  errors?: FieldErrors;
  hint?: string;
  required?: boolean;
  /** Set when the same form appears more than once on a page (see fieldId). */
  idPrefix?: string;
}

function Label(props: BaseFieldProps) {
  return (
    <label for={fieldId(props.name, props.idPrefix)}>
      {props.label}
      {props.required ? <span class="badge-required">{props.v.t('common.required')}</span> : null}
    </label>
  );
}

function describedBy(props: BaseFieldProps): string | undefined {
  const ids = [props.hint ? `${fieldId(props.name, props.idPrefix)}-hint` : '', props.errors?.[props.name] ? `${fieldId(props.name, props.idPrefix)}-error` : '']
    .filter(Boolean)
    .join(' ');
  return ids || undefined;
}

function HintAndError(props: BaseFieldProps) {
  const err = props.errors?.[props.name];
  return (
    <>
      {props.hint ? <span class="field__hint" id={`${fieldId(props.name, props.idPrefix)}-hint`}>{props.hint}</span> : null}
      {err ? <span class="field__error" id={`${fieldId(props.name, props.idPrefix)}-error`}>{err}</span> : null}
    </>
  );
}

/** A labelled input with hint and field-level error wired for screen readers. */
export function TextField(
  props: BaseFieldProps & {
    value?: string | number | null;
    type?: 'text' | 'password' | 'email' | 'search' | 'tel' | 'number' | 'date' | 'datetime-local' | 'url';
    autocomplete?: string;
    inputmode?: 'search' | 'text' | 'decimal' | 'numeric' | 'email' | 'url' | 'tel' | 'none';
    maxlength?: number;
    pattern?: string;
    spellcheck?: boolean;
    autofocus?: boolean;
  },
) {
  const invalid = Boolean(props.errors?.[props.name]);
  return (
    <div class="field">
      <Label {...props} />
      <HintAndError {...props} />
      <input
        id={fieldId(props.name, props.idPrefix)}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.type === 'password' ? undefined : props.value ?? undefined}
        autocomplete={props.autocomplete}
        inputmode={props.inputmode}
        maxlength={props.maxlength}
        pattern={props.pattern}
        spellcheck={props.spellcheck}
        autofocus={props.autofocus}
        required={props.required}
        aria-invalid={invalid ? 'true' : undefined}
        aria-describedby={describedBy(props)}
      />
    </div>
  );
}

export function TextArea(props: BaseFieldProps & { value?: string | null; rows?: number }) {
  const invalid = Boolean(props.errors?.[props.name]);
  return (
    <div class="field">
      <Label {...props} />
      <HintAndError {...props} />
      <textarea
        id={fieldId(props.name, props.idPrefix)}
        name={props.name}
        rows={props.rows ?? 5}
        required={props.required}
        aria-invalid={invalid ? 'true' : undefined}
        aria-describedby={describedBy(props)}
      >
        {props.value ?? ''}
      </textarea>
    </div>
  );
}

export function SelectField(
  props: BaseFieldProps & { value?: string | number | null; options: Array<{ value: string | number; label: string }>; emptyLabel?: string },
) {
  const invalid = Boolean(props.errors?.[props.name]);
  return (
    <div class="field">
      <Label {...props} />
      <HintAndError {...props} />
      <select
        id={fieldId(props.name, props.idPrefix)}
        name={props.name}
        required={props.required}
        aria-invalid={invalid ? 'true' : undefined}
        aria-describedby={describedBy(props)}
      >
        {props.emptyLabel !== undefined ? <option value="">{props.emptyLabel}</option> : null}
        {props.options.map((o) => (
          <option value={String(o.value)} selected={String(o.value) === String(props.value ?? '')}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A group of checkboxes in a fieldset with a legend. */
export function CheckboxGroup(
  props: BaseFieldProps & { values: string[]; options: Array<{ value: string; label: string; hint?: string }> },
) {
  const id = fieldId(props.name, props.idPrefix);
  return (
    <fieldset class="field" id={id} aria-describedby={describedBy(props)}>
      <legend>
        {props.label}
        {props.required ? <span class="badge-required">{props.v.t('common.required')}</span> : null}
      </legend>
      <HintAndError {...props} />
      {props.options.map((o, i) => (
        <div class="checkbox">
          <input type="checkbox" id={`${id}-${i}`} name={props.name} value={o.value} checked={props.values.includes(o.value)} />
          <label for={`${id}-${i}`}>
            {o.label}
            {o.hint ? <span class="field__hint">{o.hint}</span> : null}
          </label>
        </div>
      ))}
    </fieldset>
  );
}

export function Checkbox(props: { name: string; label: string; checked?: boolean; value?: string; idPrefix?: string }) {
  const id = fieldId(props.name, props.idPrefix);
  return (
    <div class="checkbox field">
      <input type="checkbox" id={id} name={props.name} value={props.value ?? '1'} checked={props.checked} />
      <label for={id}>{props.label}</label>
    </div>
  );
}

/** Previous / next links that keep the current filters. */
export function Pagination(props: { v: View; total: number; limit: number; offset: number; baseQuery: URLSearchParams }) {
  const pages = Math.max(1, Math.ceil(props.total / props.limit));
  const page = Math.floor(props.offset / props.limit) + 1;
  const link = (p: number) => {
    const q = new URLSearchParams(props.baseQuery);
    q.set('page', String(p));
    return `?${q.toString()}`;
  };
  return (
    <nav class="pagination" aria-label="pagination">
      {page > 1 ? <a href={link(page - 1)} rel="prev">{props.v.t('common.prev')}</a> : null}
      <span>{props.v.t('common.page', { page, pages, total: props.total })}</span>
      {page < pages ? <a href={link(page + 1)} rel="next">{props.v.t('common.next')}</a> : null}
    </nav>
  );
}
