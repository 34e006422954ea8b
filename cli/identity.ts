import type { Command } from 'commander'
import {
  pcpHome, createAgentIdentity, listAgentNames, readIdentityDocument, secureAgentKey, isKeyEncrypted, agentDir, Agent, PcpError, openAgentStore, stringifyJson, unlockedKeyText
} from '../runtime/index.js'
import { existsSync } from 'node:fs'
import { writeNewFile } from '../runtime/fsutil.js'
import { join } from 'node:path'
import { action, printJson, passphrase, EXIT } from './common.js'

export function registerIdentityCommands (program: Command): void {
  const identity = program.command('identity').description('create, inspect, encrypt and rotate agent identities (Ed25519)')

  identity.command('create <name>')
    .description('create a new agent identity under $PCP_HOME/agents/<name>')
    .option('--encrypt', 'encrypt the private key (PQKY: scrypt N=2^17 + AES-256-GCM); passphrase from PCP_PASSPHRASE or a prompt')
    .option('--json', 'print JSON')
    .action(action(async (name: string, opts: { encrypt?: boolean, json?: boolean }) => {
      const home = pcpHome(program.opts().home)
      let pw: string | undefined
      if (opts.encrypt) {
        pw = await passphrase('New passphrase: ', { confirm: true })
        if (!pw) throw new PcpError('KEY_PASSPHRASE_REQUIRED', '--encrypt needs a passphrase: set PCP_PASSPHRASE or run in a terminal')
      }
      const id = await createAgentIdentity(home, name, pw ? { passphrase: pw } : {})
      const out = { name, agent_id: id.agentId, dir: agentDir(home, name), encrypted: !!pw }
      id.destroy()
      if (opts.json) printJson(out)
      else process.stdout.write(`created ${name}  ${out.agent_id}  ${out.dir}${pw ? '  (key encrypted)' : '  (key NOT encrypted: pcp identity secure ' + name + ')'}\n`)
    }))

  identity.command('list')
    .description('list the agents in $PCP_HOME')
    .option('--json', 'print JSON')
    .action(action(async (opts: { json?: boolean }) => {
      const home = pcpHome(program.opts().home)
      const rows = []
      for (const name of await listAgentNames(home)) {
        const doc = await readIdentityDocument(home, name)
        rows.push({ name, agent_id: doc.agent_id, created_at: doc.created_at, encrypted: await isKeyEncrypted(home, name) })
      }
      if (opts.json) printJson(rows)
      else if (rows.length === 0) process.stdout.write(`no agents in ${home}\n`)
      else for (const r of rows) process.stdout.write(`${r.name.padEnd(24)} ${r.agent_id}  ${r.encrypted ? 'encrypted' : 'plaintext'}\n`)
    }))

  identity.command('info <name>')
    .description('show an agent\'s identity document and chain head')
    .option('--json', 'print JSON')
    .action(action(async (name: string, opts: { json?: boolean }) => {
      const home = pcpHome(program.opts().home)
      const doc = await readIdentityDocument(home, name)
      // The chain head the help promises, read from the store without the key (none yet: null).
      let head: { seq: number, hash: string, timestamp: number } | null = null
      if (existsSync(join(agentDir(home, name), 'store'))) {
        const store = await openAgentStore(home, name)
        try { head = store.head ? { seq: store.head.seq, hash: store.head.hash, timestamp: store.head.timestamp } : null } finally { await store.close() }
      }
      const out = { name, ...doc, encrypted: await isKeyEncrypted(home, name), dir: agentDir(home, name), head }
      if (opts.json) printJson(out)
      else for (const [k, v] of Object.entries(out)) process.stdout.write(`${k.padEnd(12)} ${v !== null && typeof v === 'object' ? stringifyJson(v) : String(v)}\n`)
    }))

  identity.command('secure <name>')
    .description('encrypt an existing plaintext key; the plaintext file is overwritten and removed (no .bak)')
    .option('--json', 'print JSON')
    .action(action(async (name: string, opts: { json?: boolean }) => {
      const pw = await passphrase('New passphrase: ', { confirm: true })
      if (!pw) throw new PcpError('KEY_PASSPHRASE_REQUIRED', 'a passphrase is needed: set PCP_PASSPHRASE or run in a terminal')
      await secureAgentKey(pcpHome(program.opts().home), name, pw)
      if (opts.json) printJson({ name, encrypted: true })
      else process.stdout.write(`${name}: key encrypted\n`)
    }))

  identity.command('unlock <name>')
    .description('write the key unlocked (a plaintext key file) for a credential store, so a service opens the agent without scrypt')
    .requiredOption('-o, --output <file>', 'where to write it (mode 0600; - for stdout, e.g. into systemd-creds encrypt)')
    .option('--json', 'print JSON (not with -o -)')
    .addHelpText('after', '\nThe key file stays encrypted. Seal the output at once, e.g.\n  pcp identity unlock arm -o - | systemd-creds encrypt --name=pcp-key - /etc/credstore.encrypted/pcp-key\nand pass it to the service as LoadCredentialEncrypted=pcp-key:... (pcp-edge/rpi serviceKey(), Agent.open unlockedKey).\n')
    .action(action(async (name: string, opts: { output: string, json?: boolean }) => {
      const home = pcpHome(program.opts().home)
      if (!await isKeyEncrypted(home, name)) throw new PcpError('KEY_NOT_ENCRYPTED', `agent "${name}" has a plaintext key already; unlock is for an encrypted one (pcp identity secure ${name})`, { agent: name })
      const pw = await passphrase()
      if (!pw) throw new PcpError('KEY_PASSPHRASE_REQUIRED', 'a passphrase is needed: set PCP_PASSPHRASE or run in a terminal')
      const text = await unlockedKeyText(home, name, pw)
      if (opts.output === '-') { process.stdout.write(text); return }
      await writeNewFile(opts.output, text, 0o600).catch((err: NodeJS.ErrnoException) => {
        if (err instanceof PcpError) throw err // FILE_WRITE_FAILED: nothing left behind
        throw new PcpError('ARGUMENT_INVALID', `-o ${opts.output}: ${err.code === 'EEXIST' ? 'exists; an unlocked key is never written over a file' : err.message}`, { field: 'output', file: opts.output })
      })
      if (opts.json) printJson({ name, output: opts.output })
      else process.stdout.write(`${name}: unlocked key written to ${opts.output} (mode 0600): seal it (systemd-creds encrypt) and delete this copy\n`)
    }))

  identity.command('rotate <name>')
    .description('replace the key: the old key signs an attestation and a key_rotation event; the chain continues under the new key')
    .option('--json', 'print JSON')
    .action(action(async (name: string, opts: { json?: boolean }) => {
      const home = pcpHome(program.opts().home)
      const pw = await isKeyEncrypted(home, name) ? await passphrase() : undefined
      const agent = await Agent.open({ name }, { home, create: false, ...(pw ? { passphrase: pw } : {}) })
      try {
        const r = await agent.rotate()
        const out = { name, previous_agent_id: r.previousAgentId, new_agent_id: r.newAgentId, rotation_event_seq: agent.head!.seq }
        if (opts.json) printJson(out)
        else process.stdout.write(`${name}: ${r.previousAgentId} → ${r.newAgentId} (rotation event #${out.rotation_event_seq})\n`)
      } finally { await agent.close() }
      return EXIT.OK
    }))
}
