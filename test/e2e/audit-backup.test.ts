/**
 * Operations journeys in a real browser: the audit trail's tamper check catches a row changed
 * in the database, and a backup taken from the admin restores with the CLI to exactly that state.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { configSchema } from '../../src/core/config/index.js';
import type { Engine } from '../../src/core/db/index.js';
import { createOrganization, createStaff, startTestPlatform, type TestPlatform } from '../helpers/platform.js';
import { describeE2E, loginAs, newPage, startPlatformOn, submitAndWait, useBrowser, visit } from './helpers.js';

const browser = useBrowser();
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const navLink = (pg: Page, name: string) => pg.getByRole('navigation', { name: '管理メニュー' }).getByRole('link', { name, exact: true });

/** What an attacker with database access would do first: switch off the append-only guard. */
async function disableAppendOnly(tp: TestPlatform, engine: Engine): Promise<void> {
  const db = tp.platform.db;
  if (engine === 'sqlite') await sql`DROP TRIGGER audit_log_no_update`.execute(db);
  else await sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`.execute(db);
}

/**
 * Runs the real `machimado` command. Settings come only from `env`: the test process's own
 * environment carries values the CLI would read as configuration (Vitest sets BASE_URL=/).
 */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of [...Object.keys(configSchema.shape), 'MACHIMADO_CONFIG']) delete base[key];
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin/machimado.js'), ...args], { cwd: ROOT, env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describeE2E('audit tamper check in the browser', (engine) => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform(engine, { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } });
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('reports a clean chain, then the id of a row changed in the database (409)', async () => {
    const p = tp.platform;
    const admin = await createStaff(p, { roles: ['system_admin'] });
    const pg = await newPage(browser(), tp.baseUrl);
    await loginAs(pg, admin.loginId, admin.password);
    await submitAndWait(pg, () => navLink(pg, '操作ログ').click());
    expect(new URL(pg.url()).pathname).toBe('/admin/audit');
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '改ざん検査を実行する' }).click())).toBe(200);
    expect(await pg.getByTestId('audit-verify-result').textContent()).toContain('改ざんは検出されませんでした');

    // Rewrite the summary of the first login's record, as someone covering their tracks would.
    const victim = await p.db.selectFrom('audit_log').select(['id', 'summary']).where('action', '=', 'auth.login').orderBy('id').limit(1).executeTakeFirstOrThrow();
    await disableAppendOnly(tp, engine);
    await p.db.updateTable('audit_log').set({ summary: '何も起きませんでした' }).where('id', '=', victim.id).execute();

    await submitAndWait(pg, () => pg.getByRole('link', { name: '戻る' }).click());
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '改ざん検査を実行する' }).click())).toBe(409);
    const alert = pg.getByRole('alert');
    expect(await alert.getByTestId('audit-verify-result').textContent()).toContain('改ざんを検出しました');
    const problems = await alert.getByRole('listitem').allTextContents();
    expect(problems.some((line) => line.startsWith(`#${victim.id}:`) && line.includes('書き換えられています')), problems.join('\n')).toBe(true);
    await pg.context().close();
  });
});

describeE2E('backup and restore round trip', (engine) => {
  let tp: TestPlatform;
  let restarted: Awaited<ReturnType<typeof startPlatformOn>> | undefined;
  beforeAll(async () => {
    tp = await startTestPlatform(engine, { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } });
  });
  afterAll(async () => {
    await restarted?.running.shutdown('test end');
    await tp?.close();
  });

  it('takes a backup in the admin, restores it with `machimado restore`, and the later change is gone', async () => {
    const p = tp.platform;
    const admin = await createStaff(p, { roles: ['system_admin'] });
    await createOrganization(p, { code: 'e2e-before', name: 'バックアップ前の組織', kind: 'department' });

    const pg = await newPage(browser(), tp.baseUrl);
    await loginAs(pg, admin.loginId, admin.password);
    await submitAndWait(pg, () => navLink(pg, 'バックアップ').click());
    expect(await pg.getByRole('table').getByRole('row').count()).toBe(1); // header only
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '今すぐバックアップを取る' }).click())).toBe(200);
    expect(await pg.getByRole('status').textContent()).toContain('バックアップを開始しました');
    await p.jobs.drain();
    await pg.reload();
    const table = pg.getByRole('table', { name: /保管中のバックアップ（1件）/ });
    const file = (await table.getByRole('row').nth(1).getByRole('cell').nth(1).textContent())!.trim();
    expect(file).toMatch(/\S/);

    // A change after the backup, made through the UI.
    await submitAndWait(pg, () => navLink(pg, '組織').click());
    await pg.getByLabel('組織コード').fill('e2e-after');
    await pg.getByLabel('組織名').fill('バックアップ後の組織');
    await pg.getByLabel('種別').selectOption('department');
    expect(await submitAndWait(pg, () => pg.getByRole('button', { name: '保存する' }).click())).toBe(200);
    expect(await pg.getByRole('table').textContent()).toContain('バックアップ後の組織');
    await pg.context().close();

    await tp.running.shutdown('restore');
    const backupDir = p.config.BACKUP_DIR;
    const cli = await runCli(['restore', join(backupDir, file)], {
      DATABASE_URL: tp.databaseUrl,
      DATA_DIR: tp.dataDir,
      BACKUP_DIR: backupDir,
      LOG_LEVEL: 'warn',
      JOBS_ENABLED: 'false',
    });
    expect(cli.code, `restore failed:\n${cli.stdout}\n${cli.stderr}`).toBe(0);
    expect(cli.stdout).toContain('復元しました');

    restarted = await startPlatformOn({ databaseUrl: tp.databaseUrl, dataDir: tp.dataDir, env: { BACKUP_DIR: backupDir, RATE_LIMIT_LOGIN_PER_MINUTE: '1000' } });
    const after = await newPage(browser(), restarted.baseUrl);
    await loginAs(after, admin.loginId, admin.password);
    expect(new URL(after.url()).pathname).toBe('/admin');
    expect(await visit(after, '/admin/organizations')).toBe(200);
    const orgs = (await after.getByRole('table').textContent()) ?? '';
    expect(orgs).toContain('バックアップ前の組織');
    expect(orgs).not.toContain('バックアップ後の組織');
    expect(await visit(after, '/admin/backups')).toBe(200);
    expect(await after.getByRole('table').textContent()).toContain(file);
    await after.context().close();
  });
});
