// Plumbing for the hub and sync tests: free ports, hub and broker child processes, reading a hub's
// stored chain back, waiting for a condition, and one hub identity for hubs that share a store.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { ROOT } from '../helpers.js'
import { LevelHubStore } from '../../hub/store/level.js'
import { eventHash, type AissEvent } from '../../runtime/index.js'
import { copyFileSync, mkdirSync } from 'node:fs'
import { agentDir, createAgentIdentity, IDENTITY_FILE, PLAIN_KEY_FILE } from '../../runtime/home.js'

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
  })
}

export interface Child { proc: ChildProcess, ready: string, lines: string[], stderr: string[], exited: Promise<number | null> }

/** Starts `node --import tsx <script> ...args` and resolves once it prints a line starting "READY ". */
export function startChild (script: string, args: string[], ms = 20_000): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []; const stderr: string[] = []
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  proc.stderr!.on('data', (d) => stderr.push(String(d)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${script} not ready after ${ms} ms: ${stderr.join('')}`)) }, ms)
    let buf = ''
    proc.stdout!.on('data', (d) => {
      buf += String(d)
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl); buf = buf.slice(nl + 1)
        lines.push(line)
        if (line.startsWith('READY ')) { clearTimeout(timer); resolve({ proc, ready: line.slice(6), lines, stderr, exited }) }
      }
    })
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`${script} exited (${code}) before READY: ${stderr.join('')}`)) })
  })
}

export async function kill (child: Child, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill(signal)
  await child.exited
}

/** Reads one chain back from a hub's data dir (the hub must be stopped: the store is locked). */
export async function readHubChain (dataDir: string, agentId: string): Promise<{ events: AissEvent[], hashes: string[], rejected: number }> {
  const store = await LevelHubStore.open(join(dataDir, 'store'))
  try {
    const events: AissEvent[] = []
    for await (const { event } of store.events(agentId)) events.push(event)
    return { events, hashes: events.map(eventHash), rejected: store.agent(agentId)?.rejectedCount ?? 0 }
  } finally {
    await store.close()
  }
}

export async function until (cond: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * Gives every hub data directory in `dirs` one hub identity, as an operator does for hubs sharing a
 * PostgreSQL store (their TrustGate journal is signed by that one key: docs/scaling.md).
 */
export async function shareHubIdentity (dirs: readonly string[]): Promise<void> {
  const [first, ...rest] = dirs
  if (first === undefined) return
  const identity = await createAgentIdentity(first, 'hub')
  identity.destroy()
  for (const d of rest) {
    mkdirSync(agentDir(d, 'hub'), { recursive: true, mode: 0o700 })
    for (const f of [IDENTITY_FILE, PLAIN_KEY_FILE]) copyFileSync(join(agentDir(first, 'hub'), f), join(agentDir(d, 'hub'), f))
  }
}
