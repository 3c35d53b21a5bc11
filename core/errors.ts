import { inspect } from 'node:util';

/**
 * kmc's error hierarchy: a stable `code` for programs (the CLI maps codes to exit codes), a message for people,
 * and the cause chain kept (`{ cause }`).
 */
export class KmcError extends Error {
  override readonly name: string = 'KmcError';
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Invalid configuration; the message names the file and the field. */
export class ConfigError extends KmcError {
  override readonly name = 'ConfigError';
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG', message, options);
  }
}

/** A plugin's tap threw; names the plugin and the hook, so users know whose code failed. */
export class PluginError extends KmcError {
  override readonly name = 'PluginError';
  readonly pluginName: string;
  readonly hook: string;
  constructor(pluginName: string, hook: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('PLUGIN', `plugin "${pluginName}" failed in hook "${hook}": ${reason}`, { cause });
    this.pluginName = pluginName;
    this.hook = hook;
  }
}

/** Do not retry: the same input will fail the same way (controller-runtime's TerminalError). */
export class TerminalError extends KmcError {
  override readonly name = 'TerminalError';
  constructor(message: string, options?: ErrorOptions) {
    super('TERMINAL', message, options);
  }
}

/** MQTT broker trouble: connection refused, TLS verification failed, timeouts. */
export class TunnelError extends KmcError {
  override readonly name = 'TunnelError';
  constructor(message: string, options?: ErrorOptions) {
    super('TUNNEL', message, options);
  }
}

export class LeaderElectionLostError extends KmcError {
  override readonly name = 'LeaderElectionLostError';
  constructor(message: string, options?: ErrorOptions) {
    super('LEADERSHIP_LOST', message, options);
  }
}

/** The message of an error and of every cause under it, for one log line or a CLI message. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth += 1) {
    if (current instanceof Error) {
      if (!parts.includes(current.message)) parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(inspect(current));
      break;
    }
  }
  return parts.join(': ');
}
