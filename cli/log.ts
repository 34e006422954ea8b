// The operator log of `pcp hub start` and `pcp sync run --log-level`: one pino logger writing JSON
// lines, synchronously (a line written before a crash or SIGKILL is on disk), to stderr or to
// --log-file. Components log through children ({ component: 'ingest' }, ...), and the hub's HTTP APIs
// hand the same instance to fastify (loggerInstance), so request lines share the stream. Stdout keeps
// the human start-up lines and --json output. pino is an optional peer (the hub stack): loaded here, when
// a command asks for a log, so a device install runs every other command without it.
import { PcpError } from '../runtime/index.js'
import { checkLogLevel, type Logger } from '../sync/log.js'

export interface CliLogOptions {
  /** Append JSON lines to this file (created with its directory, mode 0600) instead of stderr. */
  file?: string
}

/** The level from a flag, else $PCP_LOG_LEVEL, else `fallback`; a RangeError names the allowed ones. */
export function logLevelOf (flag: unknown, fallback = 'info'): string {
  return checkLogLevel(flag ?? (process.env.PCP_LOG_LEVEL || fallback), flag === undefined && process.env.PCP_LOG_LEVEL ? '$PCP_LOG_LEVEL' : '--log-level')
}

/** The logger that --log-level and --log-file ask for. */
export function loggerFromOptions (o: Record<string, unknown>): Promise<Logger> {
  return createCliLogger(logLevelOf(o.logLevel), o.logFile ? { file: String(o.logFile) } : {})
}

export async function createCliLogger (level: string, opts: CliLogOptions = {}): Promise<Logger> {
  checkLogLevel(level)
  let pino: typeof import('pino').pino
  try { ({ pino } = await import('pino')) } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') throw new PcpError('LOG_STACK_MISSING', 'a structured log needs pino, which a device install leaves out: npm install pino@10', { field: 'pino', cause: err })
    throw err
  }
  const dest = opts.file === undefined ? pino.destination({ fd: 2, sync: true }) : pino.destination({ dest: opts.file, sync: true, append: true, mkdir: true, mode: 0o600 })
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest) as unknown as Logger
}
