// Shared by the test/a2a-*.test.ts files (not a suite itself): real Agents on a temp home, and
// `pcp session-verify` run as a child process for its exit codes.
import { spawnSync } from 'node:child_process'
import { Agent } from '../runtime/index.js'
import { ROOT } from './helpers.js'

/** Opens (creating) one Agent per name under `home`. */
export async function openAgents (home: string, names: string[], opts: { clock?: () => number } = {}): Promise<Agent[]> {
  const out: Agent[] = []
  for (const n of names) out.push(await Agent.open({ name: n }, { home, ...opts }))
  return out
}

/** `pcp <args>` with only the session commands registered; a commander usage error exits 2. */
export function sessionCli (args: string[]): { code: number | null, out: string, err: string } {
  const script = `import { Command } from 'commander'; import { registerSessionCommands } from './cli/session.ts';
    const p = new Command(); p.exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2)); registerSessionCommands(p); await p.parseAsync(process.argv);`
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, 'pcp', ...args], { cwd: ROOT, encoding: 'utf8' })
  return { code: r.status, out: r.stdout, err: r.stderr }
}
