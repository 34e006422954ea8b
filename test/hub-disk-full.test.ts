// Issue 13 #5: the hub recovers by itself from store write errors. Its data dir is on a real tmpfs in a
// private mount namespace (test/support/disk-full.ts) that the child fills while a device syncs through
// the hub's embedded broker; then it frees the space and the device must catch up with no restart.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { ROOT } from './helpers.js'
import { inTmpfs, tmpfsUnavailable } from './support/disk-full.js'

const H = suite('hub-disk-full')
const why = tmpfsUnavailable()
if (why) console.log(`  hub-disk-full: skipped: ${why}`)
const T = why ? H.skip : H

T('a full disk under the hub store: retryable refusals, a metric and a log line; once space is back the device catches up and the export verifies', async () => {
  const r = await inTmpfs(24, join(ROOT, 'test/support/hub-disk-full-child.ts'), ['hub'], { cwd: ROOT, timeoutMs: 55_000 })
  assert.is(r.code, 0, r.stderr.slice(-2000))
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!)
  assert.is(out.error, undefined, `${out.error}: device ${JSON.stringify(out.deviceAtError)}`)
  assert.is(out.before, 20)
  assert.is(out.failingBefore, 0, 'pcp_hub_store_failing is 0 while the store writes')
  // While full: the hub stores nothing more, says why, and the device keeps trying (not stopped).
  assert.ok(out.sawFailing, 'pcp_hub_store_failing 1')
  assert.ok(out.errorsWhileFull >= 1, 'pcp_hub_store_write_errors_total{code="STORE_NO_SPACE"} counts the failed write')
  assert.ok(out.sawBusy, 'the device was refused with the retryable HUB_BUSY')
  assert.is(out.statusWhileFull.failing, true, 'status.json (pcp hub status) says the store is failing')
  assert.is(out.statusWhileFull.code, 'STORE_NO_SPACE')
  assert.match(out.deviceWhileFull.lastError.message, /STORE_NO_SPACE/)
  assert.is(out.countWhileFull, 20)
  assert.is(out.countLater, 20)
  assert.is(out.phaseLater, 'streaming')
  assert.equal(out.log.map((l: { event: string }) => l.event).filter((e: string) => e !== 'store_still_failing'), ['store_failing', 'store_recovered'])
  assert.is(out.log[0].level, 'error')
  assert.is(out.log[0].code, 'STORE_NO_SPACE')
  // After: caught up without a restart, the gauge back to 0, every event in the hub's verified export.
  assert.is(out.failingAfter, 0)
  assert.equal(out.statusAfter, { failing: false })
  assert.ok(out.exportValid, JSON.stringify(out.exportErrors))
  assert.equal(out.exported, Array.from({ length: 120 }, (_, i) => i))
  console.log(`    hub caught up ${out.recoveryMs} ms after space was freed`)
})

T('a full disk under a syncing device (relaxed store, cursor writes failing): stamps refused with STORE_NO_SPACE, nothing acknowledged lost, sync resumes once space is back', async () => {
  const r = await inTmpfs(24, join(ROOT, 'test/support/hub-disk-full-child.ts'), ['device'], { cwd: ROOT, timeoutMs: 55_000 })
  assert.is(r.code, 0, r.stderr.slice(-2000))
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!)
  assert.is(out.error, undefined, `${out.error}: ${JSON.stringify(out.status)}`)
  const stored = new Set(out.stored)
  assert.equal(out.acked.filter((i: number) => !stored.has(i)), [], 'every acknowledged stamp is in the reopened store')
  assert.ok(out.reopened, 'the reopened chain verifies')
  assert.ok(out.refused.length >= 30 && out.refused.every((c: string) => c === 'STORE_NO_SPACE'), JSON.stringify(out.refused))
  assert.is(out.failureWhileFull, 'STORE_NO_SPACE')
  for (let i = out.freedFrom; i < out.freedFrom + 20; i++) assert.ok(out.acked.includes(i), `stamp ${i} after freeing`)
  assert.is(out.hubCount, out.deviceHead + 1, 'the hub caught up with the device')
  assert.ok(out.exportValid)
  assert.equal(out.exported, out.stored, 'the hub holds exactly the device chain')
})

H.run()
