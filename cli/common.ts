// What every command shares: exit codes, --json output, error printing, passphrase input.
import { createInterface } from 'node:readline'
import { PcpError } from '../runtime/index.js'

/** 0 success / valid; 1 a verdict of "invalid"; 2 unusable input or an operational error. */
export const EXIT = { OK: 0, INVALID: 1, UNUSABLE: 2 } as const

export function printJson (value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v, 2) + '\n')
}

/** Runs a command body; a PcpError becomes one line on stderr (with its code) and exit 2. */
export function action<A extends unknown[]> (fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args)
      process.exitCode = code ?? EXIT.OK
    } catch (err) {
      const json = args.some((a) => a && typeof a === 'object' && (a as { json?: boolean }).json === true)
      if (err instanceof PcpError) {
        if (json) printJson({ error: { code: err.code, message: err.message } })
        else process.stderr.write(`pcp: ${err.message} [${err.code}]\n`)
      } else {
        if (json) printJson({ error: { code: 'INTERNAL', message: (err as Error).message } })
        else process.stderr.write(`pcp: ${(err as Error).stack ?? String(err)}\n`)
      }
      process.exitCode = EXIT.UNUSABLE
    }
  }
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
