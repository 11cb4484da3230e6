export type Locale = 'ja' | 'en';
export const LOCALES: Locale[] = ['ja', 'en'];
export type Messages = Record<string, string>;
export type Translator = (key: string, params?: Record<string, string | number>) => string;

const catalog: Record<Locale, Messages> = { ja: {}, en: {} };

/**
 * Adds a module's messages. Japanese is the source language; English falls back to it.
 * @example registerMessages({ ja: { 'cms.title': 'ページ' }, en: { 'cms.title': 'Pages' } })
 */
export function registerMessages(messages: Partial<Record<Locale, Messages>>): void {
  for (const locale of LOCALES) Object.assign(catalog[locale], messages[locale] ?? {});
}

/** A translator for one locale: `t('login.title')`, `t('users.count', { n: 3 })`. */
export function translator(locale: Locale): Translator {
  return (key, params) => {
    const template = catalog[locale][key] ?? catalog.ja[key] ?? key;
    if (!params) return template;
    return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
  };
}

export function isLocale(v: unknown): v is Locale {
  return v === 'ja' || v === 'en';
}

/**
 * Picks the locale: the visitor's explicit choice (the language switch's cookie), else Japanese.
 * The browser's Accept-Language is not used: pages' content (CMS pages, notices) is Japanese, and
 * an English frame around Japanese text would declare the wrong page language.
 */
export function negotiateLocale(cookie: string | undefined): Locale {
  return isLocale(cookie) ? cookie : 'ja';
}
