// Human-approval queue: TTL with an injected clock, on_timeout (REJECT/BLOCK/ESCALATE), principals and
// clearance, justification, and the journal stamped onto a real Agent chain that verifies.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApprovalQueue, approvalTerms, JOURNAL_TYPES, type ApprovalTerms, type JournalEntry } from '../hub/trustgate/queue.js'
import { staticDirectory, requiredClearance } from '../hub/trustgate/principals.js'
import { StamperJournal, journalEntries, decisionEntry } from '../hub/trustgate/journal.js'
import { evaluate } from '../policy/evaluate.js'
import { loadProfile } from '../hub/trustgate/profiles.js'
import { Agent } from '../runtime/index.js'
import { PcpError } from '../runtime/errors.js'
import type { Decision, EvaluationContext } from '../policy/types.js'

const Queue = suite('trustgate queue')
const nist = loadProfile('nist_balanced')
const directory = staticDirectory([
  { id: 'P-L1', name: 'lina', clearance: 'L1', active: true },
  { id: 'P-L2', name: 'omar', clearance: 'L2', active: true },
  { id: 'P-L3', name: 'ada', clearance: 'L3', active: true },
  { id: 'P-OLD', name: 'gone', clearance: 'L3', active: false }
])
const human = (vrs: number, id: string): Decision => {
  const c: EvaluationContext = { agent_id: 'bot', role: 'operator', action: 'write_db', payload: { n: 1 }, vrs, tsi_state: 'STABLE', timestamp: 1000, request_id: id }
  const d = evaluate(c, nist)
  assert.is(d.outcome, 'REQUIRE_HUMAN')
  return d
}
const terms = (over: Partial<ApprovalTerms> = {}): ApprovalTerms => ({ ...approvalTerms(nist), ...over })
function setup (): { q: ApprovalQueue, log: JournalEntry[], clock: { now: number } } {
  const clock = { now: 1000 }
  const log: JournalEntry[] = []
  return { q: new ApprovalQueue({ principals: directory, clock: () => clock.now, onRecord: (e) => { log.push(e) } }), log, clock }
}
const code = (c: string) => (e: unknown): boolean => e instanceof PcpError && e.code === c
/** uvu has no async throws: awaits `fn` and checks what it rejected with. */
async function rejects (fn: () => Promise<unknown>, check: ((e: unknown) => boolean) | RegExp): Promise<void> {
  try { await fn() } catch (err) {
    assert.ok(check instanceof RegExp ? check.test((err as Error).message) : check(err), `unexpected error: ${(err as Error).message}`)
    return
  }
  assert.unreachable('expected a rejection')
}

Queue('clearance follows the VRS ceilings (L1 ≤ 0.75, L2 ≤ 0.90, L3 ≤ 1.0)', () => {
  assert.equal([0.6, 0.75, 0.76, 0.9, 0.91, null].map(requiredClearance), ['L1', 'L1', 'L2', 'L2', 'L3', 'L3'])
})

Queue('submit, approve by a cleared principal; refuse unknown, inactive, under-cleared (gaps.md #44)', async () => {
  const { q, log } = setup()
  const d = human(0.8, 'd1') // needs L2
  const item = await q.submit(d, terms())
  assert.is(item.required_clearance, 'L2')
  assert.is(item.expires_at, 1300)
  assert.equal(q.pending().map((p) => p.decision.decision_id), ['d1'])
  await rejects(() => q.approve('d1', 'nobody'), code('PRINCIPAL_UNKNOWN'))
  await rejects(() => q.approve('d1', 'P-OLD'), code('PRINCIPAL_INACTIVE'))
  await rejects(() => q.approve('d1', 'P-L1'), code('PRINCIPAL_NOT_ALLOWED'))
  await rejects(() => q.approve('lina' as string, 'P-L2'), code('DECISION_NOT_FOUND'))
  const res = await q.approve('d1', 'P-L2', 'checked the order')
  assert.equal([res.state, res.final_outcome, res.principal_id], ['APPROVED', 'ALLOW', 'P-L2'])
  await rejects(() => q.approve('d1', 'P-L3'), code('DECISION_RESOLVED'))
  await rejects(() => q.submit(d, terms()), code('DECISION_EXISTS'))
  assert.equal(log.map((e) => e.type), [JOURNAL_TYPES.pending, JOURNAL_TYPES.approved])
  assert.is(log[1]!.payload.principal_name, 'omar')
  assert.is(log[1]!.payload.decision_hash, log[0]!.payload.decision_hash, 'the approval names the exact decision')
  assert.throws(() => q.submit(evaluate({ ...d, payload: {}, vrs: 0.1, tsi_state: 'STABLE' } as never, nist), terms()), RangeError)
})

Queue('reject needs no clearance; the policy principal list and justification are enforced', async () => {
  const { q } = setup()
  await q.submit(human(0.8, 'r1'), terms({ requireJustification: true }))
  await rejects(() => q.reject('r1', 'P-L1', '  '), code('JUSTIFICATION_REQUIRED'))
  const r = await q.reject('r1', 'P-L1', 'not today')
  assert.equal([r.state, r.final_outcome, r.justification], ['REJECTED', 'BLOCK', 'not today'])
  await q.submit(human(0.7, 'r2'), terms({ approvers: ['ada'] }))
  await rejects(() => q.approve('r2', 'P-L2'), code('PRINCIPAL_NOT_ALLOWED'))
  assert.is((await q.approve('r2', 'P-L3')).state, 'APPROVED', 'listed by name')
})

Queue('on timeout the policy outcome applies: REJECT and BLOCK deny, exactly after the TTL (gaps.md #47)', async () => {
  const { q, log, clock } = setup()
  await q.submit(human(0.7, 't1'), terms({ onTimeout: 'REJECT', ttlSeconds: 60 }))
  await q.submit(human(0.7, 't2'), terms({ onTimeout: 'BLOCK', ttlSeconds: 120 }))
  assert.equal(await q.expire(1060), [], 'not yet: timed out means strictly after expires_at')
  const gone = await q.expire(1061)
  assert.equal(gone.map((r) => 'state' in r ? [r.decision_id, r.state, r.final_outcome] : null), [['t1', 'TIMED_OUT', 'BLOCK']])
  clock.now = 2000
  // An answer that arrives late finds the request timed out, even before anyone called expire().
  await rejects(() => q.approve('t2', 'P-L3'), code('DECISION_TIMED_OUT'))
  assert.equal(q.pending(), [])
  assert.equal(log.filter((e) => e.type === JOURNAL_TYPES.timedOut).map((e) => e.payload.decision_id), ['t1', 't2'])
})

Queue('ESCALATE raises the needed clearance with a fresh TTL, and blocks past L3', async () => {
  const { q, log, clock } = setup()
  await q.submit(human(0.7, 'e1'), terms({ onTimeout: 'ESCALATE', ttlSeconds: 100 })) // L1
  const [up] = await q.expire(1101)
  assert.ok(up && 'required_clearance' in up)
  assert.equal([up.required_clearance, up.expires_at, up.escalations], ['L2', 1201, 1])
  clock.now = 1150
  await rejects(() => q.approve('e1', 'P-L1'), code('PRINCIPAL_NOT_ALLOWED'))
  await q.expire(1202) // → L3
  assert.is(q.pending()[0]!.required_clearance, 'L3')
  const [end] = await q.expire(1303)
  assert.ok(end && 'state' in end)
  assert.equal([end.state, end.final_outcome], ['TIMED_OUT', 'BLOCK'])
  assert.match(end.justification, /escalation exhausted/)
  assert.equal(log.map((e) => e.type), [JOURNAL_TYPES.pending, JOURNAL_TYPES.escalated, JOURNAL_TYPES.escalated, JOURNAL_TYPES.timedOut])
})

Queue('a failing journal aborts the transition; concurrent answers resolve once', async () => {
  const clock = { now: 1000 }
  let fail = false
  const q = new ApprovalQueue({ principals: directory, clock: () => clock.now, onRecord: () => { if (fail) throw new Error('disk full') } })
  await q.submit(human(0.7, 'f1'), terms())
  fail = true
  await rejects(() => q.approve('f1', 'P-L3'), /disk full/)
  assert.is(q.pending().length, 1, 'still pending: nothing happened that the journal does not show')
  fail = false
  const results = await Promise.allSettled([q.approve('f1', 'P-L3'), q.reject('f1', 'P-L2', 'no')])
  assert.equal(results.map((r) => r.status), ['fulfilled', 'rejected'])
})

Queue('the journal is the hub\'s own signed chain: stamped by a real Agent, verified, and restores the queue', async () => {
  const home = mkdtempSync(join(tmpdir(), 'pcp-tg-journal-'))
  try {
    const agent = await Agent.open({ name: 'hub' }, { home })
    const journal = new StamperJournal(agent)
    const clock = { now: 1000 }
    const q = new ApprovalQueue({ principals: directory, clock: () => clock.now, onRecord: journal.record })
    const d1 = human(0.7, 'j1'); const d2 = human(0.8, 'j2')
    await journal.record(decisionEntry(d1))
    await q.submit(d1, terms())
    await q.submit(d2, terms({ onTimeout: 'ESCALATE' }))
    await q.approve('j1', 'P-L1', 'ok')
    await q.expire(1301) // j2 escalates to L3
    const report = await agent.verify()
    assert.ok(report.valid, JSON.stringify(report.errors))
    const events = await agent.history()
    assert.equal(events.map((e) => e.payload.event_type), ['trustgate.decision', 'trustgate.pending', 'trustgate.pending', 'trustgate.approved', 'trustgate.escalated'])
    assert.is(events[0]!.agent_id, agent.agentId)
    await agent.close()

    // After a restart, the queue is rebuilt from the verified chain.
    const again = await Agent.open({ name: 'hub' }, { home })
    const entries: JournalEntry[] = []
    for await (const e of journalEntries(again.events())) entries.push(e)
    const q2 = new ApprovalQueue({ principals: directory, clock: () => 1400, onRecord: new StamperJournal(again).record })
    q2.restore(entries)
    assert.equal(q2.pending().map((p) => [p.decision.decision_id, p.required_clearance]), [['j2', 'L3']])
    assert.is(q2.get('j1') && 'state' in q2.get('j1')! ? (q2.get('j1') as { state: string }).state : null, 'APPROVED')
    await rejects(() => q2.approve('j2', 'P-L2'), code('PRINCIPAL_NOT_ALLOWED'))
    assert.is((await q2.approve('j2', 'P-L3', 'escalated, checked')).state, 'APPROVED')
    assert.ok((await again.verify()).valid)
    await again.close()
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
})

Queue.run()
