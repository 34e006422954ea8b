// An agent opened with its key unlocked once (`pcp identity unlock` → a credential → AgentOpenOptions.
// unlockedKey): no scrypt at open, the same identity and chain, the key file left as it was; a key that is
// not the agent's is refused; rotating an encrypted key without its passphrase is refused rather than
// writing the new key under an empty one. Real key files (scrypt at a test cost) on temp dirs; the CLI as
// a child process.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, statSync, existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { Agent, unlockedKeyText } from '../runtime/index.js'
import { tmpDir, codeOf, ROOT, FAST_SCRYPT_N } from './helpers.js'

const U = suite('unlocked key')
const PW = 'correct horse battery staple'

U('open with the unlocked key: same agent, the chain continues, no passphrase asked, the key file untouched', async () => {
  const tmp = tmpDir()
  try {
    const first = await Agent.open({ name: 'arm' }, { home: tmp.path, passphrase: PW, scryptN: FAST_SCRYPT_N })
    await first.stamp('boot', {})
    const id = first.agentId
    await first.close()
    const keyFile = join(tmp.path, 'agents/arm/private.key.enc')
    const before = readFileSync(keyFile)
    const text = await unlockedKeyText(tmp.path, 'arm', PW, { scryptN: FAST_SCRYPT_N })
    assert.is(await codeOf(unlockedKeyText(tmp.path, 'arm', 'wrong', { scryptN: FAST_SCRYPT_N })), 'KEY_PASSPHRASE_WRONG')
    const saved = process.env.PCP_PASSPHRASE
    delete process.env.PCP_PASSPHRASE
    try {
      const agent = await Agent.open({ name: 'arm' }, { home: tmp.path, unlockedKey: text })
      assert.is(agent.agentId, id)
      await agent.stamp('tick', { n: 1 })
      assert.equal((await agent.verify()).errors, [])
      assert.is(agent.head!.seq, 1)
      // Rotation writes a new key file as strong as the old one: without the passphrase it must refuse.
      assert.is(await codeOf(agent.rotate()), 'KEY_PASSPHRASE_REQUIRED')
      assert.is(agent.head!.seq, 1, 'nothing stamped by the refused rotation')
      await agent.close()
    } finally { if (saved !== undefined) process.env.PCP_PASSPHRASE = saved }
    assert.equal(readFileSync(keyFile), before, 'the encrypted key file is as it was')
    const again = await Agent.open({ name: 'arm' }, { home: tmp.path, passphrase: PW, scryptN: FAST_SCRYPT_N })
    assert.is(again.agentId, id)
    await again.rotate()
    await again.close()
    // After a rotation the old unlocked key is not the agent's key any more.
    assert.is(await codeOf(Agent.open({ name: 'arm' }, { home: tmp.path, unlockedKey: text })), 'IDENTITY_INVALID')
  } finally { tmp.cleanup() }
})

U("another agent's key, a damaged text, or an agent that does not exist: refused with a code", async () => {
  const tmp = tmpDir()
  try {
    await (await Agent.open({ name: 'a' }, { home: tmp.path, passphrase: PW, scryptN: FAST_SCRYPT_N })).close()
    await (await Agent.open({ name: 'b' }, { home: tmp.path, passphrase: PW, scryptN: FAST_SCRYPT_N })).close()
    const bKey = await unlockedKeyText(tmp.path, 'b', PW, { scryptN: FAST_SCRYPT_N })
    assert.is(await codeOf(Agent.open({ name: 'a' }, { home: tmp.path, unlockedKey: bKey })), 'IDENTITY_INVALID')
    assert.is(await codeOf(Agent.open({ name: 'a' }, { home: tmp.path, unlockedKey: '{"private_key":"nope"}' })), 'KEY_FILE_CORRUPTED')
    assert.is(await codeOf(Agent.open({ name: 'c' }, { home: tmp.path, unlockedKey: bKey })), 'IDENTITY_NOT_FOUND')
    assert.not.ok(existsSync(join(tmp.path, 'agents/c/identity.json')), 'an unlocked key never creates an agent')
  } finally { tmp.cleanup() }
})

U('pcp identity unlock: -o writes mode 0600 and never over a file, - writes to stdout; a plaintext key is refused', async () => {
  const tmp = tmpDir()
  try {
    await (await Agent.open({ name: 'arm' }, { home: tmp.path, passphrase: PW })).close()
    await (await Agent.open({ name: 'plain' }, { home: tmp.path })).close()
    const pcp = (...args: string[]): { status: number | null, out: string, err: string } => {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/pcp.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PCP_HOME: tmp.path, PCP_PASSPHRASE: PW } })
      return { status: r.status, out: r.stdout, err: r.stderr }
    }
    const file = join(tmp.path, 'arm.key')
    let r = pcp('identity', 'unlock', 'arm', '-o', file, '--json')
    assert.is(r.status, 0, r.err)
    assert.is(statSync(file).mode & 0o777, 0o600)
    const text = readFileSync(file, 'utf8')
    const agent = await Agent.open({ name: 'arm' }, { home: tmp.path, unlockedKey: text })
    await agent.close()
    r = pcp('identity', 'unlock', 'arm', '-o', file)
    assert.is(r.status, 2)
    assert.match(r.err, /exists; an unlocked key is never written over a file/)
    r = pcp('identity', 'unlock', 'arm', '-o', '-')
    assert.is(r.status, 0, r.err)
    assert.is(r.out, text, 'stdout carries exactly the key text, for systemd-creds encrypt')
    r = pcp('identity', 'unlock', 'plain', '-o', join(tmp.path, 'p.key'))
    assert.is(r.status, 2)
    assert.match(r.err, /KEY_NOT_ENCRYPTED/)
  } finally { tmp.cleanup() }
})

U.run()
