// The hub's structured log: one pino logger (fastify's own), a child per component (hub, broker,
// vigil-api, trustgate-api) so an operator filters by `component`, and the level set once
// (`pcp hub start --log-level`, $PCP_LOG_LEVEL). The protocol core never logs; only the hub's edges do.

/** The part of pino's Logger the hub uses; pino's instances satisfy it, tests may pass a recorder. */
export interface HubLogger {
  info (obj: object, msg?: string): void
  warn (obj: object, msg?: string): void
  error (obj: object, msg?: string): void
  debug (obj: object, msg?: string): void
  child (bindings: object): HubLogger
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const noop = (): void => {}
export const silentLogger: HubLogger = { info: noop, warn: noop, error: noop, debug: noop, child: () => silentLogger }

/** A pino logger writing JSON lines to stderr (stdout keeps the start-up lines and --json output). */
export async function createHubLogger (level = 'info'): Promise<HubLogger> {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new RangeError(`log level expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`)
  const { pino } = await import('pino')
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true })) as unknown as HubLogger
}
