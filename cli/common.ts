// What every command shares: exit codes, --json output, error printing, passphrase input.
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { join } from 'node:path'
import { PcpError, Float, stringifyJson, pcpHome, type JsonValue } from '../runtime/index.js'
import { setOwnKey } from '../runtime/value.js'

/** 0 success / valid; 1 a verdict of "invalid"; 2 unusable input or an operational error. */
export const EXIT = { OK: 0, INVALID: 1, UNUSABLE: 2 } as const

/**
 * --json output is lossless JSON (runtime/json.ts): an event printed here parses back, with parseJson or
 * Python's json, to the same canonical bytes. JSON.stringify would print Float(25) as 25 and -0.0 as 0.
 */
export function printJson (value: unknown): void {
  process.stdout.write(stringifyJson(jsonable(value) as JsonValue, 2) + '\n')
}

/** What JSON.stringify would do for bytes and toJSON (dates), keeping Float and bigint for stringifyJson. */
function jsonable (v: unknown): unknown {
  // As JSON.stringify: NaN and ±Infinity (a rate before any sample) print as null.
  if (typeof v === 'number' && !Number.isFinite(v)) return null
  if (v === null || typeof v !== 'object' || v instanceof Float) return v
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64')
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return jsonable((v as { toJSON (): unknown }).toJSON())
  if (Array.isArray(v)) return v.map((x) => x === undefined ? null : jsonable(x))
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) setOwnKey(out, k, jsonable(x))
  return out
}

/** Runs a command body; a PcpError becomes one line on stderr (with its code) and exit 2. */
export function action<A extends unknown[]> (fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args)
      process.exitCode = code ?? EXIT.OK
    } catch (err) {
      const json = args.some((a) => a && typeof a === 'object' && (a as { json?: boolean }).json === true)
      reportError(err, json)
    }
  }
}

/**
 * One line naming what failed, never a stack trace: an operator reads the message, not our frames
 * (PCP_DEBUG=1 adds the stack for a bug report). Node's own errors (ENOENT…) name the path already.
 */
export function reportError (err: unknown, json = false): void {
  const e = err as { code?: unknown, message?: unknown, stack?: unknown }
  // A TypeError/RangeError from a library call is our argument check on what the user typed.
  const code = err instanceof PcpError ? err.code : typeof e?.code === 'string' ? e.code
    : err instanceof TypeError || err instanceof RangeError ? 'ARGUMENT_INVALID' : 'INTERNAL'
  const message = (typeof e?.message === 'string' ? e.message : String(err)).split('\n')[0]!.trim()
  if (json) printJson({ error: { code, message } })
  else process.stderr.write(`pcp: ${message} [${code}]\n`)
  if (process.env.PCP_DEBUG && typeof e?.stack === 'string') process.stderr.write(e.stack + '\n')
  process.exitCode = EXIT.UNUSABLE
}

/** PCP_PASSPHRASE, else a no-echo prompt on the terminal, else undefined (non-interactive). */
export async function passphrase (prompt = 'Passphrase: ', opts: { confirm?: boolean } = {}): Promise<string | undefined> {
  if (process.env.PCP_PASSPHRASE) return process.env.PCP_PASSPHRASE
  if (!process.stdin.isTTY) return undefined
  const ask = (q: string): Promise<string> => new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    const out = rl as unknown as { _writeToOutput: (s: string) => void }
    const write = out._writeToOutput.bind(rl)
    // Echo the prompt, nothing of what is typed.
    out._writeToOutput = (s: string) => { if (s.startsWith(q)) write(q) }
    rl.question(q, (answer) => { rl.close(); process.stderr.write('\n'); resolve(answer) })
  })
  const first = await ask(prompt)
  if (opts.confirm && first !== await ask('Repeat passphrase: ')) throw new PcpError('KEY_PASSPHRASE_WRONG', 'the two passphrases differ')
  return first
}

export interface HomeOption { home?: string }

/** The hub's data directory: --data, else <PCP home>/hub. */
export function hubDataDir (program: Command, data: string | undefined): string {
  return data ?? join(pcpHome(program.opts().home as string | undefined), 'hub')
}
