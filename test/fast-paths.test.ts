// The shortcuts the stamping and verify paths take for speed (issue 18) give exactly what the general
// path gives: a record built from the signer's raw signature, the one-shot SHA-256 hex, classic-level's
// own batch under the store, and an awaited batch signed half on the signer thread, half inline.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { Level } from 'level'
import { Agent, Identity, stampEvent, signingBytes, fromBase64Strict, toHex, nodeCrypto, portableCrypto, verifyChain } from '../runtime/index.js'
import { sha256Hex } from '../runtime/crypto.js'
import { encodeRecord } from '../runtime/record.js'
import { writeBatch, type RawOp } from '../runtime/level-open.js'
import { randomValue, seededRandom, tmpDir } from './helpers.js'

const Fast = suite('fast paths')

Fast('a record from the raw signature is byte-equal to one from the event alone', () => {
  const id = Identity.generate()
  const rnd = seededRandom(7)
  let prev: string | null = id.genesisHash()
  for (let i = 0; i < 300; i++) {
    const { event, hash } = stampEvent(id, { event_type: 'x', v: randomValue(rnd, 3) as never }, { previousHash: prev })
    const raw = fromBase64Strict(event.signature)!
    assert.equal(encodeRecord(event, 0, raw), encodeRecord(event, 0), `event ${i}`)
    prev = hash
  }
})

Fast('sha256Hex is the hex of sha256, on the node backend and the portable one', () => {
  const rnd = seededRandom(11)
  for (let i = 0; i < 200; i++) {
    const data = Uint8Array.from({ length: Math.floor(rnd() * 2000) }, () => Math.floor(rnd() * 256))
    const want = toHex(portableCrypto.sha256(data))
    assert.is(sha256Hex(data), want)
    assert.is(nodeCrypto.sha256Hex?.(data) ?? want, want)
    assert.is(toHex(nodeCrypto.sha256(data)), want)
  }
})

Fast("writeBatch: puts and dels through classic-level's own batch read back after a reopen; before open it takes the public path", async () => {
  const tmp = tmpDir()
  try {
    const dir = join(tmp.path, 'db')
    let db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
    // Not open yet: abstract-level defers the batch until the open completes.
    const early = writeBatch(db, [{ type: 'put', key: 'a', value: Uint8Array.of(1) }], true)
    await db.open(); await early
    const ops: RawOp[] = [{ type: 'put', key: 'b', value: Uint8Array.of(2, 3) }, { type: 'put', key: 'c', value: Uint8Array.of(4) }, { type: 'del', key: 'a' }]
    await writeBatch(db, ops, true)
    await db.close()
    db = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' }); await db.open()
    assert.is(await db.get('a'), undefined)
    assert.equal([...(await db.get('b'))!], [2, 3])
    assert.equal([...(await db.get('c'))!], [4])
    await db.close()
  } finally { tmp.cleanup() }
})

Fast('awaited batches of 100 (signed partly inline beside the signer thread) give a chain that verifies, in call order', async () => {
  const tmp = tmpDir()
  const agent = await Agent.open({ name: 'fast' }, { home: tmp.path })
  try {
    const got: number[] = []
    for (let b = 0; b < 5; b++) {
      const events = await Promise.all(Array.from({ length: 100 }, (_, i) => agent.stamp('tick', { i: b * 100 + i })))
      for (const ev of events) got.push(ev.payload.i as number)
      // Each signature is over its own event's bytes (a mix-up of the two halves would fail here).
      for (const ev of events) assert.ok(nodeCrypto.verify(fromBase64Strict(ev.signature)!, signingBytes(ev), agent.publicKey))
    }
    assert.equal(got, Array.from({ length: 500 }, (_, i) => i))
    const history = await agent.history()
    assert.ok(verifyChain(history, await agent.firstIdentityDocument()).valid)
    assert.ok((await agent.verify()).valid)
  } finally { await agent.close(); tmp.cleanup() }
})

Fast.run()
