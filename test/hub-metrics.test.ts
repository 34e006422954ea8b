// The hub's /metrics as Prometheus scrapes it: a real hub (embedded broker, a verify worker, TrustGate,
// Vigil's HTTP API), a real device syncing over MQTT and asking its gate, and /metrics fetched over HTTP
// and parsed strictly (test/support/prom-text.ts). Proves the latency histograms are there from the
// start, move with the work done, and that only the hub's own families are exposed (no default
// collectors); plus the histogram API's argument checks and series bound.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { Agent } from '../runtime/index.js'
import { startHubServices } from '../hub/services.js'
import { MetricsRegistry, HUB_HISTOGRAMS, HUB_METRICS } from '../hub/metrics.js'
import { SyncAgent } from '../sync/agent.js'
import { DeviceGate } from '../sync/gate.js'
import { parseExposition, histogram } from './support/prom-text.js'
import { tmpDir } from './helpers.js'

const M = suite('hub-metrics')

M('a real hub: /metrics over HTTP has the latency histograms, and their counts move with ingest and gate decisions', async () => {
  const tmp = tmpDir('pcp-hub-metrics-')
  const s = await startHubServices({ dataDir: join(tmp.path, 'hub'), port: 0, approval: 'auto', workers: 1, control: false, vigilApi: { port: 0, localOnly: true }, trustgateApi: false })
  const device = await Agent.open({ name: 'arm-9' }, { home: join(tmp.path, 'dev') })
  let sync: SyncAgent | undefined
  let gate: DeviceGate | undefined
  const scrape = async (): Promise<ReturnType<typeof parseExposition>> => {
    const res = await fetch(`${s.vigilUrl}/metrics`)
    assert.is(res.status, 200)
    assert.match(String(res.headers.get('content-type')), 'text/plain; version=0.0.4')
    return parseExposition(await res.text())
  }
  try {
    const before = await scrape()
    // Families without labels show their buckets before the first observation, at zero.
    for (const h of [HUB_HISTOGRAMS.verifyBatch, HUB_HISTOGRAMS.ack]) {
      const series = histogram(before, h.name)
      assert.ok(series, `${h.name} is exposed before any event`)
      assert.is(series!.count, 0)
      assert.ok(series!.buckets.length >= 10, `${h.name} has its buckets`)
    }
    assert.is(before.types.get(HUB_HISTOGRAMS.gateDecision.name), 'histogram')
    // No default collectors: nothing of prom-client's process_* / nodejs_* families.
    for (const name of before.types.keys()) assert.ok(name.startsWith('pcp_'), `only the hub's own families: ${name}`)

    for (let i = 0; i < 60; i++) await device.stamp('tick', { i })
    sync = await SyncAgent.start({ url: s.hub.mqttUrl, agents: [device], statusFile: false })
    await sync.flush(20_000)
    // Scraped before the gate checks: the device stamps each check into its chain, which then syncs too.
    const synced = await scrape()
    assert.is(synced.samples.get(`${HUB_METRICS.eventsIngested.name}{agent="${device.agentId}"}`), 60)
    const verify = histogram(synced, HUB_HISTOGRAMS.verifyBatch.name)!
    const ack = histogram(synced, HUB_HISTOGRAMS.ack.name)!
    assert.ok(verify.count >= 1 && verify.count <= 60, `verify batches: ${verify.count}`)
    assert.ok(ack.count >= 1 && ack.count <= 60, `acks: ${ack.count}`)
    assert.ok(verify.sum > 0 && ack.sum > 0, `time was measured (verify ${verify.sum} s, ack ${ack.sum} s)`)
    // An ack follows its batch's verification, its durable write included: never faster on the whole.
    assert.ok(ack.sum >= verify.sum * (ack.count / verify.count) * 0.5, `ack ${ack.sum} s vs verify ${verify.sum} s`)
    gate = await DeviceGate.open({ client: sync.client, agent: device, hub: s.hub.agent.identityDocument(), timeoutMs: 5000 })
    const allowed = await gate.check('read_db', { table: 'orders' })
    const blocked = await gate.check('shell', { cmd: 'rm -rf /' })
    assert.equal([allowed.source, allowed.outcome], ['hub', 'ALLOW'])
    assert.equal([blocked.source, blocked.outcome], ['hub', 'BLOCK'])
    const after = await scrape()
    for (const outcome of ['ALLOW', 'BLOCK']) {
      const d = histogram(after, HUB_HISTOGRAMS.gateDecision.name, `source="gate",outcome="${outcome}"`)
      assert.ok(d, `a ${outcome} decision was timed`)
      assert.is(d!.count, 1)
      assert.ok(d!.sum > 0 && d!.sum < 5)
    }
  } finally {
    await gate?.close(); await sync?.close(); await s.close(); await device.close(); tmp.cleanup()
  }
})

M('histograms: argument checks, timer, series bound shared with counters', async () => {
  const reg = new MetricsRegistry({ maxSeries: 2 })
  assert.throws(() => reg.histogram('h_seconds', 'h', [], [1, 0.5]), RangeError)
  assert.throws(() => reg.histogram('h_seconds', 'h', ['le']), RangeError)
  assert.throws(() => reg.histogram('pcp_metrics_dropped_series_total'), RangeError)
  const h = reg.histogram('h_seconds', 'h', ['kind'], [0.1, 1])
  assert.is(reg.histogram('h_seconds'), h)
  assert.throws(() => reg.counter('h_seconds'), TypeError)
  assert.throws(() => h.observe({ kind: 'a' }, NaN), RangeError)
  assert.throws(() => h.observe({ nope: 'a' }, 1), RangeError)
  h.observe({ kind: 'a' }, 0.05); h.observe({ kind: 'a' }, 0.5); h.observe({ kind: 'a' }, 5)
  const stop = h.startTimer({ kind: 'b' }); stop()
  h.observe({ kind: 'c' }, 1) // a third series: dropped
  assert.is(reg.dropped, 1)
  const e = parseExposition(await reg.render())
  const a = histogram(e, 'h_seconds', 'kind="a"')!
  assert.equal(a.buckets, [[0.1, 1], [1, 2], [Infinity, 3]])
  assert.is(a.sum, 5.55)
  assert.is(histogram(e, 'h_seconds', 'kind="b"')!.count, 1)
  assert.is(histogram(e, 'h_seconds', 'kind="c"'), undefined)
  assert.is(await h.get({ kind: 'a' }), 3)
})

M.run()
