/**
 * IPA 3. ディレクトリ・トラバーサル — static assets come from an in-memory map keyed by exact
 * path (no file system lookup); backups are named by a strict pattern; redirects after language
 * switch and login only go to same-site relative paths (open redirect).
 */
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { describePlatform } from '../helpers/engines.js';
import { HttpClient } from '../helpers/http-client.js';
import { createStaff } from '../helpers/platform.js';
import { BackupError } from '../../src/core/backup/index.js';
import { assets } from '../../src/core/ui/assets.js';
import { safeNext } from '../../src/core/http/app.js';
import { rawGet, staysOnSite, tableCounts } from './helpers.js';

const TRAVERSALS = [
  '/assets/../../package.json',
  '/assets/../package.json',
  '/assets/%2e%2e/%2e%2e/package.json',
  '/assets/%2e%2e/%2e%2e/etc/passwd',
  '/assets/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
  '/assets/..%2f..%2fpackage.json',
  '/assets/..%5c..%5cpackage.json',
  '/assets/..\\..\\package.json',
  '/assets/%252e%252e/%252e%252e/etc/passwd',
  '/assets/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
  '/assets/....//....//etc/passwd',
  '/assets/%2e%2e/%2e%2e/src/core/config/index.ts',
  '/assets//etc/passwd',
  '/assets/app.css/../../../../etc/passwd',
  '/assets/%00../../package.json',
  '/../../etc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
];

const OFFSITE_NEXT = [
  '//evil.example',
  '///evil.example',
  'https://evil.example',
  'http:evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '\\/evil.example',
  '/\t/evil.example',
  '/\t\\evil.example',
  '/\n/evil.example',
  '/\r/evil.example',
  ' //evil.example',
  '//evil.example/%2F..',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '//evil.example@city.example',
  '/%2F%2Fevil.example',
];

describePlatform('security: path traversal and open redirect', { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10000' } }, (tp) => {
  it('serves a real asset (control)', async () => {
    const res = await rawGet(tp().baseUrl, assets.app.path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/css/);
  });

  it('/assets with ../ and encoded variants never reaches the file system', async () => {
    const pkg = readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8');
    for (const path of TRAVERSALS) {
      const res = await rawGet(tp().baseUrl, path);
      expect([400, 404], `${path} → ${res.status}`).toContain(res.status);
      expect(res.body, path).not.toContain('"name": "machimado"');
      expect(res.body, path).not.toContain(pkg.slice(0, 60));
      expect(res.body, path).not.toMatch(/root:.*:0:0:/);
      expect(res.body, path).not.toContain('configSchema');
    }
  });

  it('BackupService.verify refuses names that are not backups, inside or outside the folder', async () => {
    const p = tp().platform;
    const dir = resolve(p.config.BACKUP_DIR);
    const outsideRel = relative(dir, '/etc/passwd');
    for (const file of ['../../etc/passwd', outsideRel, '/etc/passwd', '/etc/hostname', `${dir}/../../../../etc/passwd`, '..', '.', '']) {
      const err = await p.backup.verify(file).catch((e: unknown) => e);
      expect(err, `verify(${JSON.stringify(file)}) must throw, not hash the file`).toBeInstanceOf(BackupError);
      expect(['invalid_name', 'not_found'], file).toContain((err as BackupError).code);
    }
  });

  it('BackupService.restore refuses traversal and outside files without touching the database', async () => {
    const p = tp().platform;
    const before = await tableCounts(p);
    const dir = resolve(p.config.BACKUP_DIR);
    for (const file of ['../../etc/passwd', relative(dir, '/etc/passwd'), '/etc/passwd', `${dir}/../../../../etc/passwd`, '../machimado.db', p.database.sqlitePath ?? '/var/lib/postgresql']) {
      const err = await p.backup.restore(file).catch((e: unknown) => e);
      expect(err, file).toBeInstanceOf(BackupError);
      expect((err as BackupError).code, file).toBe('invalid_name');
    }
    // A well-named file outside the backup folder without a recorded checksum is not restored.
    const outside = mkdtempSync(join(tmpdir(), 'machimado-outside-'));
    try {
      for (const ext of ['sqlite.gz', 'pgdump']) {
        const forged = join(outside, `machimado-20200101-000000.${ext}`);
        writeFileSync(forged, 'not a backup');
        const err = await p.backup.restore(relative(dir, forged)).catch((e: unknown) => e);
        expect(err, forged).toBeInstanceOf(BackupError);
        expect(['checksum_missing', 'invalid_name', 'not_found']).toContain((err as BackupError).code);
        expect(readFileSync(forged, 'utf8')).toBe('not a backup');
      }
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
    // Still open, nothing replaced.
    expect(await tableCounts(p)).toEqual(before);
    expect((await p.backup.list()).every((b) => b.file.startsWith(`${dir}/`))).toBe(true);
  });

  it('/lang/:locale?next= only redirects to same-site paths', async () => {
    const client = new HttpClient(tp().baseUrl);
    for (const next of OFFSITE_NEXT) {
      const res = await client.get(`/lang/en?next=${encodeURIComponent(next)}`);
      expect(res.status, next).toBe(303);
      expect(staysOnSite(res.location), `${JSON.stringify(next)} → ${JSON.stringify(res.location)}`).toBe(true);
      expect(res.location).not.toMatch(/[\u0000-\u001f\\]/);
    }
    const ok = await client.get(`/lang/en?next=${encodeURIComponent('/admin/login?x=1')}`);
    expect(ok.location).toBe('/admin/login?x=1');
  });

  it('the login form next= only redirects to same-site paths (password step and already-signed-in)', async () => {
    const p = tp().platform;
    const staff = await createStaff(p, { roles: ['editor'] });
    for (const next of OFFSITE_NEXT) {
      const client = new HttpClient(tp().baseUrl);
      await client.get(`/admin/login?next=${encodeURIComponent(next)}`);
      const res = await client.post('/admin/login', { loginId: staff.loginId, password: staff.password, next });
      expect(res.status, next).toBe(303);
      expect(staysOnSite(res.location), `${JSON.stringify(next)} → ${JSON.stringify(res.location)}`).toBe(true);
      const again = await client.get(`/admin/login?next=${encodeURIComponent(next)}`);
      expect(again.status).toBe(303);
      expect(staysOnSite(again.location), `${JSON.stringify(next)} → ${JSON.stringify(again.location)}`).toBe(true);
    }
  });
});

it('safeNext (unit): off-site and control-character targets fall back', () => {
  for (const next of OFFSITE_NEXT) expect(staysOnSite(safeNext(next)), JSON.stringify(next)).toBe(true);
  for (const next of OFFSITE_NEXT) expect(safeNext(next)).not.toMatch(/[\u0000-\u001f]/);
  expect(safeNext('/admin/users?q=a')).toBe('/admin/users?q=a');
});
