// The structured-log interface the sync agent and the hub write to: the part of pino's Logger they
// use, so a pino instance (or a child of the application's own) is passed as is. Defined here, not in
// hub/, because device code must not import the hub; the hub's pino setup is hub/log.ts. The protocol
// core (runtime/) never logs: it returns verdicts and throws coded errors, and its callers decide.

export interface Logger {
  error (obj: object, msg?: string): void
  warn (obj: object, msg?: string): void
  info (obj: object, msg?: string): void
  debug (obj: object, msg?: string): void
  /** A logger whose lines carry `bindings` too ({ component: 'sync' }). */
  child (bindings: object): Logger
}

/** pino's level names, most severe first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

const noop = (): void => {}
export const silentLogger: Logger = { error: noop, warn: noop, info: noop, debug: noop, child: () => silentLogger }

/** A RangeError naming the allowed levels, for a level from a flag or the environment. */
export function checkLogLevel (level: unknown, what = 'log level'): LogLevel {
  if (typeof level !== 'string' || !(LOG_LEVELS as readonly string[]).includes(level)) throw new RangeError(`${what} expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`)
  return level as LogLevel
}
