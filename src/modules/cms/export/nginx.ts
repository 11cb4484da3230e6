/**
 * Serving an export with nginx: the recommended configuration, and a throwaway server for the
 * benchmark and the tests (a temp directory, `daemon off`, the current user, a loopback port).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx', '/usr/bin/nginx'];

/** The nginx binary (NGINX_BIN, else the usual places), or null when it is not installed. */
export function findNginx(): string | null {
  if (process.env.NGINX_BIN) return existsSync(process.env.NGINX_BIN) ? process.env.NGINX_BIN : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/**
 * The `server` block that serves an export at the root of a host: clean addresses without a
 * redirect (`/kurashi/gomi` → kurashi/gomi/index.html), the site's 404 page, and long caching
 * for the fingerprinted assets.
 */
export function nginxServerBlock(opts: { root: string; listen: string; serverName?: string }): string {
  return [
    'server {',
    `    listen ${opts.listen};`,
    `    server_name ${opts.serverName ?? '_'};`,
    `    root ${opts.root};`,
    '    index index.html;',
    '    location / {',
    '        try_files $uri $uri/index.html $uri/ =404;',
    '    }',
    '    location /assets/ {',
    '        add_header Cache-Control "public, max-age=31536000, immutable";',
    '    }',
    '    location = /feed.xml {',
    '        types { }',
    '        default_type "application/atom+xml; charset=utf-8";',
    '    }',
    '    location = /export-manifest.json {',
    '        return 404;',
    '    }',
    '    error_page 404 /404.html;',
    '}',
  ].join('\n');
}

/** A whole nginx.conf for a private instance whose files all live in `dir`. */
export function nginxConfig(opts: { dir: string; root: string; port: number; workers?: number }): string {
  const asRoot = process.getuid?.() === 0;
  const mimeTypes = existsSync('/etc/nginx/mime.types') ? 'include /etc/nginx/mime.types;' : 'types { text/html html; text/css css; application/xml xml; text/plain txt; image/png png; image/jpeg jpg jpeg; application/pdf pdf; }';
  return [
    // As root, nginx would hand the workers to `nobody`, who cannot read a private temp dir.
    asRoot ? 'user root;' : '',
    'daemon off;',
    `worker_processes ${opts.workers ?? 1};`,
    `pid ${opts.dir}/nginx.pid;`,
    `error_log ${opts.dir}/error.log warn;`,
    'events { worker_connections 1024; }',
    'http {',
    `    ${mimeTypes}`,
    '    default_type application/octet-stream;',
    '    charset utf-8;',
    '    access_log off;',
    '    sendfile on;',
    '    tcp_nopush on;',
    '    keepalive_requests 100000;',
    `    client_body_temp_path ${opts.dir}/client_body;`,
    `    proxy_temp_path ${opts.dir}/proxy;`,
    `    fastcgi_temp_path ${opts.dir}/fastcgi;`,
    `    uwsgi_temp_path ${opts.dir}/uwsgi;`,
    `    scgi_temp_path ${opts.dir}/scgi;`,
    nginxServerBlock({ root: opts.root, listen: `127.0.0.1:${opts.port}` })
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n'),
    '}',
    '',
  ].join('\n');
}

export interface RunningNginx {
  url: string;
  port: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts nginx in the foreground on a free loopback port, serving `root`; null when nginx is
 * not installed. stop() ends it (the process this started, by its id) and removes its temp dir.
 */
export async function startNginx(root: string, opts: { workers?: number } = {}): Promise<RunningNginx | null> {
  const bin = findNginx();
  if (!bin) return null;
  const dir = mkdtempSync(join(tmpdir(), 'machimado-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig({ dir, root, port, workers: opts.workers }));
  const check = spawnSync(bin, ['-t', '-q', '-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { encoding: 'utf8' });
  if (check.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx rejected the generated configuration: ${check.stderr}`);
  }
  const child: ChildProcess = spawn(bin, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx stopped at start: ${stderr}`);
    }
    const ok = await fetch(`${url}/`).then(
      (r) => (void r.body?.cancel(), true),
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not answer within 10 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    async stop() {
      if (child.exitCode === null) {
        // SIGQUIT: graceful stop of the master and its workers.
        child.kill('SIGQUIT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
