// Runs test/support/stamp-child.ts (a real process stamping continuously) and SIGKILLs it: either a
// delay after its first acknowledged stamp, or once it acknowledged `acked` stamps. Resolves with every
// stamp it saw acknowledged (seq → hash). The kill is armed at the first acknowledgement, not at start:
// on a loaded machine the first fsync can outlast the whole delay, and a run that acknowledged nothing
// proves nothing.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from '../helpers.js'

export type KillAt = { afterFirstAckMs: number } | { acked: number }

export async function stampAndKill (home: string, name: string, durability: 'durable' | 'relaxed', at: KillAt): Promise<Map<number, string>> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/stamp-child.ts'), home, name, durability], { cwd: ROOT })
  const acked = new Map<number, string>()
  let buf = ''; let err = ''
  child.stderr.on('data', (d) => { err += d })
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      buf += d
      const lines = buf.split('\n'); buf = lines.pop()!
      for (const l of lines) {
        const m = /^ok (\d+) ([0-9a-f]{64})$/.exec(l)
        if (!m) continue
        if (acked.size === 0 && 'afterFirstAckMs' in at) setTimeout(() => child.kill('SIGKILL'), at.afterFirstAckMs)
        acked.set(Number(m[1]), m[2]!)
      }
      if ('acked' in at && acked.size >= at.acked) child.kill('SIGKILL')
    })
    child.on('exit', (code, signal) => signal === 'SIGKILL' ? resolve() : reject(new Error(`stamp child exited ${code} before it was killed: ${err}`)))
  })
  return acked
}
