import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, writeFileSync, statSync, existsSync, mkdirSync, cpSync } from 'node:fs'
import { join } from 'node:path'
import {
  encryptSeed, decryptSeed, parsePlaintextKeyFile, plaintextKeyFile, createAgentIdentity, loadAgentIdentity, secureAgentKey,
  listAgentNames, checkAgentName, toHex, PcpError, Identity, readIdentityDocument, loadIdentityFile
} from '../runtime/index.js'
import { tmpDir, FAST_SCRYPT_N, codeOf } from './helpers.js'

const Keys = suite('keyfile')
const seed = (): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => i)
const fromHexString = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))

Keys('PQKY vector of protocol.md §11.2 (N = 2^17), both ways', async () => {
  const expected = '50514b5901' + 'aa'.repeat(32) + 'bb'.repeat(12) + '31ca0a6f66abff75a48a2c37e8046ae564687cf0b3ad4757d95ef382e74ac06f9bc32f749458a15272a17d5748917eaf'
  const file = await encryptSeed(seed(), 'correct horse', { salt: new Uint8Array(32).fill(0xaa), nonce: new Uint8Array(12).fill(0xbb) })
  assert.is(file.length, 97)
  assert.is(toHex(file), expected)
  assert.is(toHex(await decryptSeed(file, 'correct horse')), toHex(seed()))
})

// Made with Python's hashlib.scrypt(pw.encode('utf-8'), n=2**10) and cryptography's AESGCM: the
// reference's stack, independent of our code.
const DECOMPOSED = 'cafe\u0301 \u{1F510}'
const PY_DECOMPOSED_N1024 = '50514b5901' + 'aa'.repeat(32) + 'bb'.repeat(12) + 'e8706201111e49e271400f8fdc9c1301c72184449150a8090887357188cbba78366351ab4feb0aa9e216057416f48b61'

Keys('passphrases are raw UTF-8 bytes as in the reference, not NFC (issue 13 #6), both ways', async () => {
  const opts = { salt: new Uint8Array(32).fill(0xaa), nonce: new Uint8Array(12).fill(0xbb), scryptN: FAST_SCRYPT_N }
  assert.is(toHex(await encryptSeed(seed(), DECOMPOSED, opts)), PY_DECOMPOSED_N1024)
  assert.is(toHex(await decryptSeed(fromHexString(PY_DECOMPOSED_N1024), DECOMPOSED, 'k.enc', { scryptN: FAST_SCRYPT_N })), toHex(seed()))
  // The composed spelling is another passphrase, as in the reference.
  assert.is(await codeOf(decryptSeed(fromHexString(PY_DECOMPOSED_N1024), DECOMPOSED.normalize('NFC'), 'k.enc', { scryptN: FAST_SCRYPT_N })), 'KEY_PASSPHRASE_WRONG')
})

Keys('a key this project wrote with the NFC form of the passphrase still opens with the raw one', async () => {
  // What encryptSeed did before: scrypt over the NFC form. Built here with node:crypto directly.
  const { scryptSync, createCipheriv } = await import('node:crypto')
  const salt = new Uint8Array(32).fill(0x11); const nonce = new Uint8Array(12).fill(0x22)
  const key = scryptSync(DECOMPOSED.normalize('NFC'), salt, 32, { N: FAST_SCRYPT_N, r: 8, p: 1 })
  const c = createCipheriv('aes-256-gcm', key, nonce)
  const body = Buffer.concat([c.update(seed()), c.final()])
  const file = Buffer.concat([Buffer.from('PQKY'), Buffer.from([1]), salt, nonce, body, c.getAuthTag()])
  assert.is(toHex(await decryptSeed(file, DECOMPOSED, 'k.enc', { scryptN: FAST_SCRYPT_N })), toHex(seed()))
  assert.match(await codeOf(encryptSeed(seed(), 'bad \ud800')), /lone surrogate/)
})

Keys('wrong passphrase, corrupted file and missing passphrase each have their own code', async () => {
  const file = await encryptSeed(seed(), 'right', { scryptN: FAST_SCRYPT_N })
  assert.is(await codeOf(decryptSeed(file, 'wrong', 'k.enc', { scryptN: FAST_SCRYPT_N })), 'KEY_PASSPHRASE_WRONG')
  assert.is(await codeOf(decryptSeed(file.subarray(0, 96), 'right')), 'KEY_FILE_CORRUPTED')
  const badMagic = Uint8Array.from(file); badMagic[0] = 0x58
  assert.is(await codeOf(decryptSeed(badMagic, 'right')), 'KEY_FILE_CORRUPTED')
  const badVersion = Uint8Array.from(file); badVersion[4] = 2
  assert.is(await codeOf(decryptSeed(badVersion, 'right')), 'KEY_FILE_CORRUPTED')
  assert.is(await codeOf(decryptSeed(file, undefined)), 'KEY_PASSPHRASE_REQUIRED')
  assert.is(toHex(await decryptSeed(file, 'right', 'k.enc', { scryptN: FAST_SCRYPT_N })), toHex(seed()))
})

Keys('plaintext key file in the reference layout', () => {
  const text = plaintextKeyFile(seed())
  const doc = JSON.parse(text)
  assert.equal(Object.keys(doc), ['format', 'version', 'private_key', 'warning'])
  assert.is(doc.format, 'plaintext')
  assert.equal(parsePlaintextKeyFile(text), seed())
  assert.throws(() => parsePlaintextKeyFile('{"private_key":"AAAA"}'), (e: PcpError) => e.code === 'KEY_FILE_CORRUPTED')
  assert.throws(() => parsePlaintextKeyFile('not json'), (e: PcpError) => e.code === 'KEY_FILE_CORRUPTED')
})

Keys('agent directories: modes, listing, load, wrong key refused', async () => {
  const tmp = tmpDir()
  try {
    const home = tmp.path
    const a = await createAgentIdentity(home, 'robot-1', { now: 1700000000 })
    const b = await createAgentIdentity(home, 'pi_2', { passphrase: 'pw', scryptN: FAST_SCRYPT_N })
    assert.is(statSync(join(home, 'agents', 'robot-1')).mode & 0o777, 0o700)
    assert.is(statSync(join(home, 'agents', 'robot-1', 'private.key.json')).mode & 0o777, 0o600)
    assert.is(statSync(join(home, 'agents', 'pi_2', 'private.key.enc')).mode & 0o777, 0o600)
    assert.is(statSync(join(home, 'agents', 'pi_2', 'private.key.enc')).size, 97)
    assert.equal(await listAgentNames(home), ['pi_2', 'robot-1'])
    assert.is((await loadAgentIdentity(home, 'robot-1')).agentId, a.agentId)
    assert.is((await loadAgentIdentity(home, 'pi_2', { passphrase: 'pw', scryptN: FAST_SCRYPT_N })).agentId, b.agentId)
    assert.is(await codeOf(loadAgentIdentity(home, 'pi_2', { passphrase: 'nope', scryptN: FAST_SCRYPT_N })), 'KEY_PASSPHRASE_WRONG')
    assert.is(await codeOf(createAgentIdentity(home, 'robot-1')), 'IDENTITY_EXISTS')
    assert.is(await codeOf(loadAgentIdentity(home, 'ghost')), 'IDENTITY_NOT_FOUND')
    // A key that is not the identity's own is refused.
    writeFileSync(join(home, 'agents', 'robot-1', 'private.key.json'), plaintextKeyFile(seed()))
    assert.is(await codeOf(loadAgentIdentity(home, 'robot-1')), 'IDENTITY_INVALID')
  } finally { tmp.cleanup() }
})

Keys('names cannot escape the home (gaps.md #18)', () => {
  for (const bad of ['../x', 'a/b', '..', '.hidden', '', 'x'.repeat(65), 'a\\b', 'a b']) {
    assert.throws(() => checkAgentName(bad), (e: PcpError) => e.code === 'AGENT_NAME_INVALID', bad)
  }
  for (const good of ['robot-1', 'pi_2', 'Capteur_été', 'a.b']) assert.is(checkAgentName(good), good)
})

Keys('secure: encrypts in place and leaves no plaintext copy (gaps.md #17)', async () => {
  const tmp = tmpDir()
  try {
    const a = await createAgentIdentity(tmp.path, 'r')
    await secureAgentKey(tmp.path, 'r', 'pw', { scryptN: FAST_SCRYPT_N })
    const dir = join(tmp.path, 'agents', 'r')
    assert.not.ok(existsSync(join(dir, 'private.key.json')))
    assert.not.ok(existsSync(join(dir, 'private.key.json.bak')))
    assert.is((await loadAgentIdentity(tmp.path, 'r', { passphrase: 'pw', scryptN: FAST_SCRYPT_N })).agentId, a.agentId)
  } finally { tmp.cleanup() }
})

Keys('a directory written by the reference loads here (identity of protocol.md §3.1)', async () => {
  const tmp = tmpDir()
  try {
    const dir = join(tmp.path, 'agents', 'ref_agent'); mkdirSync(dir, { recursive: true })
    // As the reference writes them: json.dumps(indent=2).
    writeFileSync(join(dir, 'identity.json'), JSON.stringify({ version: 'AISS-1.0', agent_id: '6ooAjytx2tERAi6rpXCqxMKCBr4z6Kw3', public_key: 'A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=', algorithm: 'Ed25519', created_at: 1700000000 }, null, 2))
    writeFileSync(join(dir, 'private.key.enc'), await encryptSeed(seed(), 'correct horse'))
    const id = await loadAgentIdentity(tmp.path, 'ref_agent', { passphrase: 'correct horse' })
    assert.is(id.agentId, '6ooAjytx2tERAi6rpXCqxMKCBr4z6Kw3')
    // Ours, copied the other way, has exactly the files the reference reads.
    const ours = await createAgentIdentity(tmp.path, 'ours', { now: 1700000000 })
    const copy = join(tmp.path, 'piqrypt', 'agents', 'ours'); cpSync(join(tmp.path, 'agents', 'ours'), copy, { recursive: true })
    const doc = JSON.parse(readFileSync(join(copy, 'identity.json'), 'utf8'))
    assert.equal(Object.keys(doc), ['version', 'agent_id', 'public_key', 'algorithm', 'created_at'])
    assert.is(doc.agent_id, ours.agentId)
    assert.equal(parsePlaintextKeyFile(readFileSync(join(copy, 'private.key.json'), 'utf8')).length, 32)
    assert.is((await readIdentityDocument(tmp.path, 'ours')).agent_id, ours.agentId)
  } finally { tmp.cleanup() }
})

Keys('legacy CLI identity file {identity, private_key}', async () => {
  const tmp = tmpDir()
  try {
    const id = Identity.fromSeed(seed(), { now: 1700000000 })
    const file = join(tmp.path, 'id.json')
    writeFileSync(file, JSON.stringify({ identity: id.document(), private_key: Buffer.from(seed()).toString('base64'), WARNING: 'x' }))
    assert.is((await loadIdentityFile(file)).agentId, '6ooAjytx2tERAi6rpXCqxMKCBr4z6Kw3')
  } finally { tmp.cleanup() }
})

Keys.run()
