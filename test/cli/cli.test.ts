/**
 * The `machimado` command as an operator runs it: help, settings and `start`, each a real child
 * process. The database commands on both engines are in db-commands.test.ts.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../helpers/http-client.js';
import { explain, freePort, runCli, spawnCli, type CliResult } from './run-cli.js';

const COMMANDS = ['start', 'migrate', 'user:create', 'backup', 'backups', 'restore', 'audit:verify'];

describe('machimado CLI: help and settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'machimado-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = { DATABASE_URL: `sqlite:${join(dir, 'unused.db')}`, DATA_DIR: dir };

  it('--help lists every command and exits 0', async () => {
    const r = await runCli(['--help'], env);
    expect(r.code, explain(r)).toBe(0);
    for (const name of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${name.replace(':', '\\:')}\\s`, 'm'));
    expect(r.stdout).toContain('usage: machimado');
    // Help alone must not create a database.
    expect(existsSync(join(dir, 'unused.db'))).toBe(false);
  });

  it('an unknown command exits 2 and shows the help', async () => {
    const r = await runCli(['frobnicate'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command: frobnicate');
    expect(r.stderr).toContain('audit:verify');
  });

  it('refuses bad settings with EX_CONFIG, naming each setting and what it expects', async () => {
    // One run with four mistakes: every one is reported, not just the first.
    const r = await runCli(['migrate'], { ...env, PORT: 'abc', DATABASE_URL: 'mysql://x', LOGIN_MAX_FAILURES: '2', SMTP_URL: 'http://mailer:pw-secret@x' });
    expect(r.code, explain(r)).toBe(78);
    expect(r.stderr).toContain('設定に誤りがあります / invalid configuration');
    expect(r.stderr).toMatch(/^  - PORT: .*"abc"/m);
    expect(r.stderr).toMatch(/^  - DATABASE_URL: sqlite:PATH または postgres:\/\/… の形式で指定してください/m);
    expect(r.stderr).toMatch(/^  - LOGIN_MAX_FAILURES: .*3/m);
    expect(r.stderr).toMatch(/^  - SMTP_URL: smtp:\/\/ユーザ:パスワード@ホスト:ポート の形式で指定してください/m);
    expect(r.stdout).toBe('');
    // The password in a mistyped URL is not echoed to the terminal.
    expect(r.stderr).not.toContain('pw-secret');
    expect(existsSync(join(dir, 'unused.db'))).toBe(false);
  });

  it('reads MACHIMADO_CONFIG, validates it, and reports a broken file', async () => {
    const good = join(dir, 'good.json');
    const dbFile = join(dir, 'from-file.db');
    writeFileSync(good, JSON.stringify({ DATABASE_URL: `sqlite:${dbFile}`, DATA_DIR: dir }));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "PORT": 3000, ');
    const [ok, brokenFile, missing] = await Promise.all([
      runCli(['migrate'], { MACHIMADO_CONFIG: good }),
      runCli(['migrate'], { ...env, MACHIMADO_CONFIG: broken }),
      runCli(['migrate'], { ...env, MACHIMADO_CONFIG: join(dir, 'absent.json') }),
    ]);
    expect(ok.code, explain(ok)).toBe(0);
    expect(existsSync(dbFile)).toBe(true); // the DATABASE_URL came from the file
    expect(brokenFile.code).toBe(78);
    expect(brokenFile.stderr).toContain(`MACHIMADO_CONFIG: ${broken} is not valid JSON`);
    expect(missing.code).toBe(78);
    expect(missing.stderr).toContain('MACHIMADO_CONFIG: file not found');
  });
});

describe('machimado start [sqlite]', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'machimado-start-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  /** Starts the server, waits until it serves, runs `body`, then stops it with SIGTERM. */
  async function withServer(body: (baseUrl: string, stdout: () => string) => Promise<void>): Promise<CliResult> {
    const port = await freePort();
    const child = spawnCli(['start'], {
      DATABASE_URL: `sqlite:${join(dataDir, 'machimado.db')}`,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      DEMO_CONTENT: 'false',
      JOBS_POLL_MS: '200',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
    try {
      const deadline = Date.now() + 20_000;
      while (!stdout.includes(`http://localhost:${port}/`)) {
        if (child.exitCode !== null) throw new Error(`start exited early\n${stdout}\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`start did not report serving\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await body(`http://127.0.0.1:${port}`, () => stdout);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
    return exited;
  }

  it('creates the first administrator once, serves, and stops cleanly on SIGTERM', async () => {
    let password = '';
    const first = await withServer(async (baseUrl, stdout) => {
      const banner = stdout();
      expect(banner.split('初期パスワード（一度だけ表示）').length - 1).toBe(1);
      expect(banner).toContain('ログインID: admin');
      password = /初期パスワード（一度だけ表示）: (\S+)/.exec(banner)![1]!;
      const health = await fetch(`${baseUrl}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      // The printed password really opens the admin (first step of sign-in succeeds).
      const client = new HttpClient(baseUrl);
      const login = await client.login('admin', password);
      expect(login.status).toBe(303);
    });
    expect(first.signal).toBeNull();
    expect(first.code, explain(first)).toBe(0);

    const second = await withServer(async (baseUrl, stdout) => {
      expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
      expect(stdout()).not.toContain('初期パスワード');
      expect(stdout()).not.toContain(password);
    });
    expect(second.code, explain(second)).toBe(0);
    expect(second.stdout).not.toContain('初期パスワード');
  });
});
