// What the demo prints: numbered steps, each with its duration, a few indented lines, and checks
// (✓/✗). Every check also lands in the --json summary, and one failed check makes the exit code 1, so
// the demo doubles as an end-to-end test. A step's lines are printed when the step ends (so its header
// can carry its duration); a step that throws is printed as FAILED with the error.
export interface Check { id: string, ok: boolean, detail: string }
export interface StepRecord { n: number, title: string, ms: number, ok: boolean, error?: string }

const WIDTH = 64

export class Reporter {
  readonly checks: Check[] = []
  readonly steps: StepRecord[] = []
  readonly started: number
  /** The step running now (for the watchdog's message). */
  current: string | null = null
  readonly #write: (text: string) => void
  readonly #total: number
  readonly #now: () => number
  #lines: string[] | null = null

  constructor (opts: { write: (text: string) => void, totalSteps: number, now?: () => number }) {
    if (typeof opts?.write !== 'function') throw new TypeError('"write" expected a function')
    this.#write = opts.write
    this.#total = opts.totalSteps
    this.#now = opts.now ?? (() => performance.now())
    this.started = this.#now()
  }

  /** Milliseconds since the demo started. */
  elapsed (): number { return this.#now() - this.started }

  /** A line outside any step (the banner, the closing lines). */
  say (text = ''): void { this.#emit(text) }

  /** An indented detail line of the current step. */
  line (text: string): void { this.#emit('    ' + text) }

  /** Records a check and prints it as a ✓/✗ line. Returns `ok` so callers can branch on it. */
  check (id: string, ok: boolean, detail: string): boolean {
    this.checks.push({ id, ok, detail })
    this.#emit(`  ${ok ? '✓' : '✗'} ${detail}`)
    return ok
  }

  get failed (): Check[] { return this.checks.filter((c) => !c.ok) }

  /** Runs one step; its header (with the step's duration) is printed before its buffered lines. */
  async step<T> (title: string, fn: () => Promise<T>): Promise<T> {
    const n = this.steps.length + 1
    const t = this.#now()
    const failedBefore = this.failed.length
    this.current = `${n}/${this.#total} ${title}`
    this.#lines = []
    const flush = (ok: boolean, error?: string): void => {
      const ms = this.#now() - t
      const lines = this.#lines ?? []
      this.#lines = null
      this.current = null
      this.steps.push({ n, title, ms: Math.round(ms), ok, ...(error === undefined ? {} : { error }) })
      const head = `[${n}/${this.#total}] ${title} `
      this.#write(`${head.padEnd(WIDTH, ' ')}${ok ? '' : 'FAILED '}${(ms / 1000).toFixed(1).padStart(5)} s\n`)
      for (const l of lines) this.#write(l + '\n')
      if (error !== undefined) this.#write(`  ✗ ${error}\n`)
    }
    try {
      const out = await fn()
      flush(this.failed.length === failedBefore)
      return out
    } catch (err) {
      const e = err as { code?: string, message?: string }
      const message = `${e?.code ? e.code + ': ' : ''}${e?.message ?? String(err)}`
      this.checks.push({ id: `step-${n}`, ok: false, detail: `${title}: ${message}` })
      flush(false, message)
      throw err
    }
  }

  #emit (text: string): void {
    if (this.#lines !== null) this.#lines.push(text)
    else this.#write(text + '\n')
  }
}

/** Seconds with one decimal, for prose ("in 2.5 s"). */
export function secs (ms: number): string { return `${(ms / 1000).toFixed(1)} s` }
