import pino from 'pino';

export type Logger = pino.Logger;

/**
 * JSON logs on stdout. Passwords, tokens and cookies are redacted wherever they appear.
 * @example const log = createLogger('info')
 */
export function createLogger(level: string = 'info'): Logger {
  return pino({
    level,
    base: { service: 'machimado' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'req.headers.cookie', 'req.headers.authorization', 'totp', '*.totp'],
      censor: '[redacted]',
    },
  });
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
