import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, configSchema, cookieSecure, loadConfig } from './index.js';

/** The ConfigError thrown for `env`, or a failure when none is thrown. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

const dir = mkdtempSync(join(tmpdir(), 'machimado-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfig defaults', () => {
  it('gives a complete, safe configuration from an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      DATABASE_URL: 'sqlite:./data/machimado.db',
      DATABASE_POOL_SIZE: 10,
      DATA_DIR: './data',
      LOG_LEVEL: 'info',
      COOKIE_SECURE: 'auto',
      LOGIN_MAX_FAILURES: 5,
      SESSION_IDLE_MINUTES: 30,
      SESSION_ABSOLUTE_HOURS: 12,
      PASSWORD_MIN_LENGTH: 10,
      TRUSTED_PROXIES: [],
      METRICS_ALLOW: ['127.0.0.1/32', '::1/128'],
      MAIL_FROM: 'no-reply@machimado.localhost',
      BACKUP_GENERATIONS: 7,
      BACKUP_SCHEDULE: '0 3 * * *',
      JOBS_ENABLED: true,
      JOBS_POLL_MS: 1000,
      DEMO_CONTENT: true,
      TIME_ZONE: 'Asia/Tokyo',
      SHUTDOWN_TIMEOUT_MS: 15000,
      BASE_URL: 'http://localhost:3000',
      BACKUP_DIR: './data/backups',
    });
    expect(c.SECRET_KEY).toBeUndefined();
    expect(c.METRICS_TOKEN).toBeUndefined();
    expect(c.SMTP_URL).toBeUndefined();
    // Plain http by default: cookies are not marked Secure, so a local start can sign in.
    expect(cookieSecure(c)).toBe(false);
  });

  it('ignores empty strings (an unset variable in a compose file) and unknown variables', () => {
    const c = loadConfig({ PORT: '', LOG_LEVEL: '', SOMETHING_ELSE: 'x', PATH: '/usr/bin' });
    expect(c.PORT).toBe(3000);
    expect(c.LOG_LEVEL).toBe('info');
    expect(c).not.toHaveProperty('SOMETHING_ELSE');
    expect(c).not.toHaveProperty('PATH');
  });
});

describe('loadConfig coercion', () => {
  it('turns numeric strings into numbers', () => {
    const c = loadConfig({ PORT: '8080', DATABASE_POOL_SIZE: '3', LOGIN_MAX_FAILURES: '10', JOBS_POLL_MS: '250', MAX_FORM_BYTES: '2048' });
    expect(c.PORT).toBe(8080);
    expect(c.DATABASE_POOL_SIZE).toBe(3);
    expect(c.LOGIN_MAX_FAILURES).toBe(10);
    expect(c.JOBS_POLL_MS).toBe(250);
    expect(c.MAX_FORM_BYTES).toBe(2048);
  });

  it('accepts PORT=0 (pick a free port)', () => {
    expect(loadConfig({ PORT: '0' }).PORT).toBe(0);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('reads the boolean %s as %s', (text, value) => {
    const c = loadConfig({ JOBS_ENABLED: text, DEMO_CONTENT: text });
    expect(c.JOBS_ENABLED).toBe(value);
    expect(c.DEMO_CONTENT).toBe(value);
  });

  it('splits CIDR lists on commas and trims blanks', () => {
    const c = loadConfig({ TRUSTED_PROXIES: ' 10.0.0.0/8 , 192.168.1.1/32,,', METRICS_ALLOW: '10.1.0.0/16' });
    expect(c.TRUSTED_PROXIES).toEqual(['10.0.0.0/8', '192.168.1.1/32']);
    expect(c.METRICS_ALLOW).toEqual(['10.1.0.0/16']);
  });

  it('accepts both postgres:// and postgresql:// and sqlite: URLs', () => {
    for (const url of ['postgres://u:p@db/x', 'postgresql://db/x', 'sqlite:/var/lib/m.db', 'sqlite::memory:']) {
      expect(loadConfig({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
    }
  });

  it('decides secure cookies from BASE_URL unless COOKIE_SECURE says otherwise', () => {
    expect(cookieSecure(loadConfig({ BASE_URL: 'https://city.example.lg.jp' }))).toBe(true);
    expect(cookieSecure(loadConfig({ BASE_URL: 'https://city.example.lg.jp', COOKIE_SECURE: 'false' }))).toBe(false);
    expect(cookieSecure(loadConfig({ COOKIE_SECURE: 'true' }))).toBe(true);
  });
});

describe('derived settings', () => {
  it('defaults BASE_URL to localhost on the configured port', () => {
    expect(loadConfig({ PORT: '8080' }).BASE_URL).toBe('http://localhost:8080');
  });

  it('keeps an explicit BASE_URL, without a trailing slash', () => {
    expect(loadConfig({ PORT: '8080', BASE_URL: 'https://city.example.lg.jp/' }).BASE_URL).toBe('https://city.example.lg.jp');
  });

  it('puts BACKUP_DIR under DATA_DIR unless given', () => {
    expect(loadConfig({ DATA_DIR: '/srv/machimado' }).BACKUP_DIR).toBe('/srv/machimado/backups');
    expect(loadConfig({ DATA_DIR: '/srv/machimado', BACKUP_DIR: '/mnt/nas/backups' }).BACKUP_DIR).toBe('/mnt/nas/backups');
  });
});

describe('configuration errors name the setting', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['BASE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_POOL_SIZE', '0'],
    ['LOG_LEVEL', 'verbose'],
    ['SECRET_KEY', 'short'],
    ['COOKIE_SECURE', 'maybe'],
    ['LOGIN_MAX_FAILURES', '2'],
    ['SESSION_IDLE_MINUTES', '0'],
    ['PASSWORD_MIN_LENGTH', '4'],
    ['METRICS_TOKEN', 'short'],
    ['SMTP_URL', 'http://x'],
    ['MAIL_FROM', 'not-an-address'],
    ['BACKUP_GENERATIONS', '0'],
    ['JOBS_ENABLED', 'perhaps'],
    ['JOBS_POLL_MS', '10'],
    ['SHUTDOWN_TIMEOUT_MS', 'soon'],
  ])('%s=%s', (key, value) => {
    const e = configError({ [key]: value });
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(new RegExp(`^${key}: `));
    expect(e.message).toContain(key);
    expect(e.message).toContain('設定に誤りがあります / invalid configuration');
  });

  it('says what is expected', () => {
    expect(configError({ DATABASE_URL: 'mysql://x' }).message).toContain('sqlite:PATH または postgres://');
    expect(configError({ SMTP_URL: 'http://x' }).message).toContain('smtp://');
    // Range errors name the bound.
    expect(configError({ LOGIN_MAX_FAILURES: '2' }).message).toMatch(/LOGIN_MAX_FAILURES: .*3/);
    expect(configError({ PORT: '70000' }).message).toMatch(/PORT: .*65535/);
  });

  it('reports every bad setting at once', () => {
    const e = configError({ PORT: 'abc', LOGIN_MAX_FAILURES: '2', SMTP_URL: 'http://x' });
    expect(e.problems.map((p) => p.split(':')[0]).sort()).toEqual(['LOGIN_MAX_FAILURES', 'PORT', 'SMTP_URL']);
  });

  it('shows the offending value of ordinary settings', () => {
    expect(configError({ PORT: 'abc' }).message).toContain('"abc"');
  });

  it('never echoes secrets or URL passwords in the error', () => {
    const secret = 'tooShortSecret';
    const e1 = configError({ SECRET_KEY: secret, METRICS_TOKEN: 'tokentoken' });
    expect(e1.message).toContain('SECRET_KEY');
    expect(e1.message).toContain('METRICS_TOKEN');
    expect(e1.message).not.toContain(secret);
    expect(e1.message).not.toContain('tokentoken');
    const e2 = configError({ SMTP_URL: 'http://mailuser:hunter2pw@mail.example.jp', DATABASE_URL: 'mysql://dbuser:s3cretpw@db/x' });
    expect(e2.message).toContain('SMTP_URL');
    expect(e2.message).toContain('DATABASE_URL');
    expect(e2.message).not.toContain('hunter2pw');
    expect(e2.message).not.toContain('s3cretpw');
    expect(configError({ SMTP_URL: 'http://u:p@ss@mail.example.jp' }).message).not.toContain('ss@');
    // The rest of the URL still helps the operator find the mistake.
    expect(e2.message).toContain('mail.example.jp');
  });
});

describe('MACHIMADO_CONFIG file', () => {
  it('reads settings from the JSON file, the environment winning', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ PORT: 4100, LOG_LEVEL: 'warn', TRUSTED_PROXIES: ['10.0.0.1/32'], JOBS_ENABLED: false, DATA_DIR: '/srv/m' }));
    const c = loadConfig({ MACHIMADO_CONFIG: file, LOG_LEVEL: 'error' });
    expect(c.PORT).toBe(4100);
    expect(c.LOG_LEVEL).toBe('error');
    expect(c.TRUSTED_PROXIES).toEqual(['10.0.0.1/32']);
    expect(c.JOBS_ENABLED).toBe(false);
    expect(c.BASE_URL).toBe('http://localhost:4100');
    expect(c.BACKUP_DIR).toBe('/srv/m/backups');
  });

  it('validates values from the file like those from the environment', () => {
    const file = join(dir, 'bad-value.json');
    writeFileSync(file, JSON.stringify({ LOGIN_MAX_FAILURES: 1 }));
    expect(configError({ MACHIMADO_CONFIG: file }).problems[0]).toMatch(/^LOGIN_MAX_FAILURES: /);
  });

  it('reports a missing file', () => {
    const e = configError({ MACHIMADO_CONFIG: join(dir, 'nope.json') });
    expect(e.message).toContain('MACHIMADO_CONFIG');
    expect(e.message).toContain('not found');
  });

  it('reports a broken file', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "PORT": 3000,');
    const e = configError({ MACHIMADO_CONFIG: file });
    expect(e.message).toContain('MACHIMADO_CONFIG');
    expect(e.message).toContain('not valid JSON');
  });

  it('reports a file that is JSON but not an object', () => {
    const file = join(dir, 'array.json');
    writeFileSync(file, '[1, 2]');
    const e = configError({ MACHIMADO_CONFIG: file });
    expect(e.message).toContain('MACHIMADO_CONFIG');
  });
});

describe('the schema', () => {
  it('documents every setting it reads with a default or as optional', () => {
    // Every key parses from an empty environment: nothing is mandatory for a first start.
    expect(() => configSchema.parse({})).not.toThrow();
  });
});
