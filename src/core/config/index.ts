import { readFileSync, existsSync } from 'node:fs';
import { z } from 'zod';

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const list = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * Every setting the platform reads, with its default. Names are the environment variables.
 * Values come from the environment, then from the optional JSON file named by MACHIMADO_CONFIG.
 */
export const configSchema = z.object({
  /** 0 picks a free port (tests). */
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Public base URL used in mails and links, e.g. https://city.example.lg.jp */
  BASE_URL: z.string().url().optional(),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'sqlite:PATH または postgres://… の形式で指定してください')
    .default('sqlite:./data/machimado.db'),
  DATABASE_POOL_SIZE: int(1, 200).default(10),
  DATA_DIR: z.string().default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Random secret for CSRF tokens and signed values; generated and kept in the database when unset. */
  SECRET_KEY: z.string().min(32).optional(),
  COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
  LOGIN_MAX_FAILURES: int(3, 100).default(5),
  SESSION_IDLE_MINUTES: int(1, 24 * 60).default(30),
  SESSION_ABSOLUTE_HOURS: int(1, 24 * 30).default(12),
  PASSWORD_RESET_MINUTES: int(5, 24 * 60).default(30),
  PASSWORD_MIN_LENGTH: int(8, 128).default(10),
  /** Proxies whose X-Forwarded-For is believed (CIDR list). */
  TRUSTED_PROXIES: list.default([]),
  /** Who may read /metrics (CIDR list); a bearer token is the alternative. */
  METRICS_ALLOW: list.default(['127.0.0.1/32', '::1/128']),
  METRICS_TOKEN: z.string().min(16).optional(),
  RATE_LIMIT_LOGIN_PER_MINUTE: int(1, 10000).default(10),
  RATE_LIMIT_PUBLIC_POST_PER_MINUTE: int(1, 10000).default(20),
  MAX_FORM_BYTES: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
  MAX_UPLOAD_BYTES: int(1024, 1024 * 1024 * 1024).default(20 * 1024 * 1024),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'smtp://ユーザ:パスワード@ホスト:ポート の形式で指定してください').optional(),
  MAIL_FROM: z.string().email().default('no-reply@machimado.localhost'),
  MAIL_MAX_ATTEMPTS: int(1, 50).default(6),
  BACKUP_DIR: z.string().optional(),
  /** CMS media library files (default DATA_DIR/media) and the largest image / document accepted. */
  MEDIA_DIR: z.string().optional(),
  MEDIA_MAX_IMAGE_BYTES: int(1024, 1024 * 1024 * 1024).default(10 * 1024 * 1024),
  MEDIA_MAX_DOCUMENT_BYTES: int(1024, 1024 * 1024 * 1024).default(30 * 1024 * 1024),
  BACKUP_GENERATIONS: int(1, 365).default(7),
  BACKUP_SCHEDULE: z.string().default('0 3 * * *'),
  JOBS_ENABLED: bool.default(true),
  JOBS_POLL_MS: int(50, 60000).default(1000),
  DEMO_CONTENT: bool.default(true),
  TIME_ZONE: z.string().default('Asia/Tokyo'),
  SHUTDOWN_TIMEOUT_MS: int(100, 600000).default(15000),
});

export type Config = z.output<typeof configSchema> & { BASE_URL: string; BACKUP_DIR: string; MEDIA_DIR: string };

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`設定に誤りがあります / invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Settings whose value must never reach a terminal or a log, even when it is wrong. */
const SECRET_SETTINGS = new Set(['SECRET_KEY', 'METRICS_TOKEN']);

/** The value as shown in an error: secrets hidden, passwords in URLs masked. */
function shownValue(key: string, value: unknown): string {
  if (value === undefined) return 'nothing';
  if (SECRET_SETTINGS.has(key)) return `[hidden, ${String(value).length} characters]`;
  if (typeof value === 'string') return JSON.stringify(value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^/?#]*@/i, '$1:***@'));
  return JSON.stringify(value);
}

/**
 * Reads and validates configuration. Throws ConfigError naming every bad setting.
 * @example const config = loadConfig(process.env)
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  let fileValues: Record<string, unknown> = {};
  const file = env.MACHIMADO_CONFIG;
  if (file) {
    if (!existsSync(file)) throw new ConfigError([`MACHIMADO_CONFIG: file not found: ${file}`]);
    try {
      fileValues = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError([`MACHIMADO_CONFIG: ${file} is not valid JSON (${(e as Error).message})`]);
    }
    if (typeof fileValues !== 'object' || fileValues === null || Array.isArray(fileValues)) {
      throw new ConfigError([`MACHIMADO_CONFIG: ${file} must hold a JSON object such as {"PORT": 3000}`]);
    }
  }
  const raw: Record<string, unknown> = { ...fileValues };
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const key = i.path.join('.');
        return `${key}: ${i.message} (got ${shownValue(key, raw[key as string])})`;
      }),
    );
  }
  const c = parsed.data;
  return {
    ...c,
    BASE_URL: (c.BASE_URL ?? `http://localhost:${c.PORT}`).replace(/\/$/, ''),
    BACKUP_DIR: c.BACKUP_DIR ?? `${c.DATA_DIR}/backups`,
    MEDIA_DIR: c.MEDIA_DIR ?? `${c.DATA_DIR}/media`,
  };
}

export function cookieSecure(config: Config): boolean {
  if (config.COOKIE_SECURE === 'auto') return config.BASE_URL.startsWith('https:');
  return config.COOKIE_SECURE === 'true';
}
