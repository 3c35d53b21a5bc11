import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Structured JSON logs on stdout (one object per line), children per component: `logger.child({ component:
 * 'vnode', node })`. MQTT credentials never reach a log line.
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? process.env['KMC_LOG_LEVEL'] ?? 'info',
    base: { app: 'kmc' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['password', '*.password', 'mqtt.password', 'token', '*.token'], censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** A logger that writes nothing, for tests of code that logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
