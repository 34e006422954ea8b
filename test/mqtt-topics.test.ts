// sync/topics.ts: the topic scheme's build/parse round trip and what it refuses.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { agentTopic, upTopic, downTopic, hubFilter, parseTopic, checkPrefix, isAgentIdShape, DEFAULT_PREFIX, CHANNELS, CHANNEL_QOS } from '../sync/topics.js'

const Topics = suite('sync/topics')
const isTypeError = (e: unknown): boolean => e instanceof TypeError
const ID = '7Xq3JmYzP1bRk9vWcT5sNhE2gLdAfU8o' // Base58, 32 chars

Topics('build: documented shapes', () => {
  assert.is(upTopic(ID), `pcp/v1/${ID}/up`)
  assert.is(downTopic(ID), `pcp/v1/${ID}/down`)
  assert.is(upTopic(ID, 'site-a/pcp/v1'), `site-a/pcp/v1/${ID}/up`)
  assert.is(hubFilter(), 'pcp/v1/+/up')
  assert.is(hubFilter({ prefix: 'x/y', shareGroup: 'hubs' }), '$share/hubs/x/y/+/up')
  assert.equal([...CHANNELS], ['up', 'down'])
  assert.equal(CHANNEL_QOS, { up: 1, down: 1 })
})

Topics('parse inverts build for every channel and prefix', () => {
  for (const prefix of [DEFAULT_PREFIX, 'a', 'deep/er/prefix']) {
    for (const channel of CHANNELS) {
      assert.equal(parseTopic(agentTopic(ID, channel, prefix), prefix), { ok: true, agentId: ID, channel })
    }
  }
})

Topics('agent ids: wildcards, separators, wrong length and non-Base58 are refused when building', () => {
  const bad = ['+', '#', `${ID.slice(0, 31)}/`, `${ID.slice(0, 31)}+`, `${ID.slice(0, 31)}#`, ID.slice(0, 31), ID + 'a',
    `${ID.slice(0, 31)}0`, `${ID.slice(0, 31)}O`, `${ID.slice(0, 31)}I`, `${ID.slice(0, 31)}l`, '', 42, null, undefined]
  for (const id of bad) {
    assert.is(isAgentIdShape(id), false, String(id))
    assert.throws(() => upTopic(id as string), (e: unknown) => e instanceof TypeError && /agentId/.test((e as Error).message), String(id))
  }
})

Topics('parse returns a verdict for hostile topics, never throws', () => {
  const cases: Array<[unknown, RegExp]> = [
    [42, /not a string/],
    ['other/v1/' + ID + '/up', /not under/],
    [`pcp/v1/${ID}`, /levels/],
    [`pcp/v1/${ID}/up/extra`, /levels/],
    [`pcp/v1/${ID.slice(1)}/up`, /agent_id/],
    ['pcp/v1/+/up', /agent_id/],
    [`pcp/v1/${ID}/events`, /unknown channel/],
    [`pcp/v1/${ID}/#`, /unknown channel/],
    [`pcp/v1//${ID}/up`, /levels|agent_id/]
  ]
  for (const [topic, reason] of cases) {
    const v = parseTopic(topic)
    assert.is(v.ok, false, String(topic))
    if (!v.ok) assert.match(v.reason, reason)
  }
})

Topics('prefix and share group arguments are checked', () => {
  for (const p of ['', '/pcp', 'pcp/', 'a//b', 'pcp/+/x', 'pcp/#', '$SYS/pcp', 'a\0b']) {
    assert.throws(() => checkPrefix(p), isTypeError, JSON.stringify(p))
    assert.throws(() => upTopic(ID, p), isTypeError, JSON.stringify(p))
  }
  for (const g of ['', 'a/b', 'a+', '#', 'x'.repeat(65)]) assert.throws(() => hubFilter({ shareGroup: g }), isTypeError, g)
  assert.throws(() => agentTopic(ID, 'events' as 'up'), isTypeError)
})

Topics.run()
