// The normative AISS-1 vectors (../shared/vectors, frozen copy in test/vectors): every one must pass.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { canonicalize, sha256Hex, deriveAgentId, fromHex, eventHash, findForks, findReplays, parseJson, type AissEvent } from '../runtime/index.js'
import { ROOT } from './helpers.js'

const Vectors = suite('vectors')
const load = (name: string): any => parseJson(readFileSync(join(ROOT, 'test', 'vectors', name), 'utf8'))

Vectors('the frozen copies equal ../shared/vectors when it is present', () => {
  const shared = join(ROOT, '..', 'shared', 'vectors')
  if (!existsSync(shared)) return
  for (const f of ['canonical.json', 'identity.json', 'events.json', 'fork.json', 'replay.json']) {
    assert.is(readFileSync(join(ROOT, 'test', 'vectors', f), 'utf8'), readFileSync(join(shared, f), 'utf8'), f)
  }
})

Vectors('canonical.json: canonical text and its SHA-256', () => {
  const { tests } = load('canonical.json')
  assert.is(tests.length, 5)
  for (const t of tests) {
    assert.is(canonicalize(t.input), t.expected_canonical, t.name)
    assert.is(sha256Hex(canonicalize(t.input)), t.expected_sha256, t.name)
  }
})

Vectors('identity.json: agent_id derivation', () => {
  const { tests } = load('identity.json')
  assert.is(tests.length, 3)
  for (const t of tests) {
    const id = deriveAgentId(fromHex(t.public_key_hex))
    assert.is(id, t.expected_agent_id, t.name)
    assert.is(id.length, 32)
  }
})

Vectors('events.json: event hashes and the seven fields', () => {
  const { tests } = load('events.json')
  assert.is(tests.length, 3)
  for (const t of tests) {
    assert.is(eventHash(t.event), t.expected_hash, t.name)
    for (const f of ['version', 'agent_id', 'timestamp', 'nonce', 'payload', 'previous_hash', 'signature']) assert.ok(f in t.event, `${t.name} has ${f}`)
  }
  // The three vectors form a chain.
  assert.is(tests[1].event.previous_hash, tests[0].expected_hash)
  assert.is(tests[2].event.previous_hash, tests[1].expected_hash)
})

Vectors('fork.json: the fork point and its branch count', () => {
  const [t] = load('fork.json').tests
  const forks = findForks([t.genesis, ...t.fork_events] as AissEvent[])
  assert.is(forks.length, 1)
  assert.is(forks[0]!.previousHash, t.expected_fork_at)
  assert.is(forks[0]!.indexes.length, t.expected_branches)
})

Vectors('replay.json: repeated nonces, and none where there are none', () => {
  for (const t of load('replay.json').tests) {
    const replays = findReplays(t.events)
    assert.is(replays.length > 0, t.expected_replay, t.name)
    if (t.expected_replay) assert.is(replays[0]!.nonce, t.replay_nonce, t.name)
  }
})

Vectors.run()
