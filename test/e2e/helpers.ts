/**
 * Real-browser helpers: one headless Debian Chromium per test file, a fresh context per page,
 * axe-core checks that list every violation, and keyboard-accessible sign-in.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContextOptions, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { loadConfig } from '../../src/core/config/index.js';
import type { Engine } from '../../src/core/db/index.js';
import { silentLogger } from '../../src/core/log.js';
import { createPlatform, startServer, type RunningServer } from '../../src/main.js';
import { engineAvailable } from '../helpers/db.js';

const require = createRequire(import.meta.url);

/** Engines for browser journeys: E2E_ENGINES=sqlite,postgres runs them on PostgreSQL too. */
export const E2E_ENGINES: Engine[] = (process.env.E2E_ENGINES ?? 'sqlite')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is Engine => s === 'sqlite' || s === 'postgres');

/** A describe block per E2E engine (skipped when the engine is not available in this run). */
export function describeE2E(name: string, body: (engine: Engine) => void): void {
  for (const engine of E2E_ENGINES) {
    const run = engineAvailable(engine) ? describe : describe.skip;
    run(`${name} [${engine}]`, () => body(engine));
  }
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches one headless Chromium for the file (beforeAll) and closes it (afterAll). */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('browser not launched');
    return browser;
  };
}

/** A page in a fresh context (own cookies), Japanese locale, relative URLs resolved on baseURL. */
export async function newPage(browser: Browser, baseURL: string, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ baseURL, locale: 'ja-JP', timezoneId: 'Asia/Tokyo', ...options });
  context.setDefaultTimeout(10_000);
  return context.newPage();
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

/**
 * Runs axe-core on the current page and fails listing every violation (rule, help, elements).
 * The app's CSP forbids inline scripts, so axe is evaluated through the DevTools protocol
 * (Playwright's evaluate is not subject to the page's CSP) instead of a script tag.
 */
export async function checkA11y(page: Page, label: string): Promise<void> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  }, AXE_TAGS);
  const report = violations
    .map((v) => `  [${v.impact ?? '-'}] ${v.id}: ${v.help}\n${v.nodes.map((n) => `      ${JSON.stringify(n.target)}${n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 300)}` : ''}`).join('\n')}`)
    .join('\n');
  expect(violations.length, `axe violations on ${label} (${page.url()}):\n${report}`).toBe(0);
  // axe 4.x retired its duplicate-id rules with WCAG 2.2, but a repeated id still breaks label
  // for=, aria-describedby and skip links for every copy after the first, so it is checked here.
  const duplicates = await page.evaluate(() => {
    const seen = new Map<string, number>();
    for (const el of document.querySelectorAll('[id]')) seen.set(el.id, (seen.get(el.id) ?? 0) + 1);
    return [...seen].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`);
  });
  expect(duplicates, `duplicate ids on ${label} (${page.url()}): ${duplicates.join(', ')}`).toEqual([]);
}

/** Signs in through the login form using its visible labels, as a keyboard or screen-reader user would. */
export async function loginAs(page: Page, loginId: string, password: string): Promise<void> {
  await page.goto('/admin/login');
  await page.getByLabel('ログインID').fill(loginId);
  await page.getByLabel('パスワード', { exact: false }).fill(password);
  await submitAndWait(page, () => page.getByRole('button', { name: 'ログインする' }).click());
}

/**
 * Runs an action that submits a form or follows a link, waits for the next document to load, and
 * returns the HTTP status of the document finally shown (after any redirects).
 */
export async function submitAndWait(page: Page, action: () => Promise<unknown>): Promise<number | null> {
  let status: number | null = null;
  const onResponse = (r: Response) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) status = r.status();
  };
  page.on('response', onResponse);
  try {
    const loaded = page.waitForEvent('load');
    await action();
    await loaded;
  } finally {
    page.off('response', onResponse);
  }
  return status;
}

/** Visits a path and returns the HTTP status of the document shown (after redirects). */
export async function visit(page: Page, path: string): Promise<number | null> {
  const res = await page.goto(path);
  return res?.status() ?? null;
}

/** The element that has keyboard focus, described for assertions. */
export function focused(page: Page): Promise<{ tag: string; id: string; name: string; text: string; type: string }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return {
      tag: el?.tagName.toLowerCase() ?? '',
      id: el?.id ?? '',
      name: el?.getAttribute('name') ?? '',
      text: (el?.textContent ?? '').trim(),
      type: el?.getAttribute('type') ?? '',
    };
  });
}

/** Everything needed to serve the platform again on an existing database and data directory. */
export interface ExistingPlatformOptions {
  databaseUrl: string;
  dataDir: string;
  env?: Record<string, string>;
}

/**
 * Starts the platform on an existing DATABASE_URL (e.g. after `machimado restore`), on a random
 * loopback port, jobs not polling. Close it with `running.shutdown()`.
 */
export async function startPlatformOn(opts: ExistingPlatformOptions): Promise<{ running: RunningServer; baseUrl: string }> {
  const config = loadConfig({
    DATABASE_URL: opts.databaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: opts.dataDir,
    LOG_LEVEL: 'silent',
    DEMO_CONTENT: 'false',
    JOBS_ENABLED: 'false',
    DATABASE_POOL_SIZE: '4',
    ...opts.env,
  });
  const platform = await createPlatform(config, { log: silentLogger() });
  const running = await startServer(platform);
  const baseUrl = `http://127.0.0.1:${running.port}`;
  (platform.config as { BASE_URL: string }).BASE_URL = baseUrl;
  return { running, baseUrl };
}
