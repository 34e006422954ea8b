// How `pcp hub status|approve|revoke` reach a running hub. The hub holds its store's LevelDB lock, so a
// second process cannot open it; instead the hub writes <data>/status.json (atomically, every second
// while something changes) and watches <data>/inbox/ for requests: the CLI writes `<id>.req.json`, the
// hub applies it and answers in `<id>.res.json`. Files, not a socket: nothing to listen on, nothing to
// authenticate beyond the data directory's own permissions (0700), which already guard the store.
import { readdir, readFile, unlink, mkdir } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { writeFileAtomic } from '../runtime/fsutil.js'

export const STATUS_FILE = 'status.json'
export const INBOX_DIR = 'inbox'

export interface ControlRequest { op: 'approve' | 'revoke', agentId: string, name?: string, role?: string }
export interface ControlResponse { ok: boolean, error?: { code: string, message: string }, result?: unknown }

export function pidAlive (pid: unknown): boolean {
  if (!Number.isInteger(pid) || (pid as number) <= 0) return false
  try { process.kill(pid as number, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

export async function writeStatus (dataDir: string, status: object): Promise<void> {
  await writeFileAtomic(join(dataDir, STATUS_FILE), JSON.stringify(status, null, 2) + '\n', 0o600)
}

/**
 * Writes `report()` now, then checks it every second and rewrites it when anything but `updatedAt`
 * changed. Returns the (unref'd) timer for the caller to clear.
 */
export async function startStatusFile (dataDir: string, report: () => object): Promise<NodeJS.Timeout> {
  await writeStatus(dataDir, report())
  let last = ''
  const timer = setInterval(() => {
    const s = report()
    const key = JSON.stringify({ ...s, updatedAt: 0 })
    if (key !== last) { last = key; void writeStatus(dataDir, s).catch(() => {}) }
  }, 1000)
  timer.unref()
  return timer
}

/** The last status a hub wrote, and whether that hub process is still alive. */
export async function readStatus (dataDir: string): Promise<{ status: Record<string, unknown>, running: boolean } | undefined> {
  let text: string
  try { text = await readFile(join(dataDir, STATUS_FILE), 'utf8') } catch { return undefined }
  try {
    const status = JSON.parse(text) as Record<string, unknown>
    return { status, running: pidAlive(status.pid) }
  } catch { return undefined }
}

/** Polls the inbox and applies each request once. */
export class Inbox {
  readonly #dir: string
  readonly #apply: (req: ControlRequest) => Promise<unknown>
  #timer: NodeJS.Timeout | undefined
  #busy = false

  constructor (dataDir: string, apply: (req: ControlRequest) => Promise<unknown>) {
    this.#dir = join(dataDir, INBOX_DIR)
    this.#apply = apply
  }

  async start (intervalMs = 300): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 })
    this.#timer = setInterval(() => { void this.poll() }, intervalMs)
    this.#timer.unref()
  }

  async poll (): Promise<void> {
    if (this.#busy) return
    this.#busy = true
    try {
      const names = (await readdir(this.#dir).catch(() => [] as string[])).filter((n) => n.endsWith('.req.json')).sort()
      for (const name of names) {
        const file = join(this.#dir, name)
        let res: ControlResponse
        try {
          const req = JSON.parse(await readFile(file, 'utf8')) as ControlRequest
          res = { ok: true, result: await this.#apply(req) }
        } catch (err) {
          res = { ok: false, error: { code: (err as { code?: string }).code ?? 'INTERNAL', message: (err as Error).message } }
        }
        await writeFileAtomic(file.replace(/\.req\.json$/, '.res.json'), JSON.stringify(res) + '\n', 0o600)
        await unlink(file).catch(() => {})
      }
    } finally {
      this.#busy = false
    }
  }

  stop (): void { if (this.#timer) clearInterval(this.#timer) }
}

/** Sends a request to the running hub of `dataDir` and waits for its answer. */
export async function sendControl (dataDir: string, req: ControlRequest, timeoutMs = 5000): Promise<ControlResponse> {
  const dir = join(dataDir, INBOX_DIR)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
  await writeFileAtomic(join(dir, `${id}.req.json`), JSON.stringify(req) + '\n', 0o600)
  const resFile = join(dir, `${id}.res.json`)
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const res = JSON.parse(await readFile(resFile, 'utf8')) as ControlResponse
      await unlink(resFile).catch(() => {})
      return res
    } catch { await new Promise((r) => setTimeout(r, 100)) }
  }
  await unlink(join(dir, `${id}.req.json`)).catch(() => {})
  return { ok: false, error: { code: 'HUB_NOT_ANSWERING', message: `the hub did not answer within ${timeoutMs} ms (is it running?)` } }
}
