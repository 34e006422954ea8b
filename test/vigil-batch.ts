// An independent, deliberately naive Vigil: every score recomputed from the FULL event lists with the
// spec's formulas (vigil.md §1–§4, plus the documented choices of hub/vigil). No windows, counters or
// caches are shared with the engine; the engine test checks that the incremental engine agrees with it.
import { DEFAULT_CONFIG as C, eventFacts, kindOf, KIND_RULES, type EventFacts, type AnomalyKind } from '../hub/vigil/index.js'
import type { AissEvent } from '../runtime/index.js'

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4
const cl = (x: number): number => Math.min(1, Math.max(0, x))
const inWin = (t: number, now: number, w: number, b: number): boolean => (Math.floor(t / b) + 1) * b > now - w

function entropy (peers: string[]): { n: number, unique: number, h: number, top: number } {
  const m = new Map<string, number>()
  for (const p of peers) m.set(p, (m.get(p) ?? 0) + 1)
  const n = peers.length
  let h = 0
  for (const c of m.values()) h -= (c / n) * Math.log2(c / n)
  return { n, unique: m.size, h: m.size > 1 ? h / Math.log2(m.size) : 0, top: n ? Math.max(...m.values()) / n : 0 }
}

export interface BatchAgent { facts: EventFacts[], anomalies: Array<{ code: string, index: number }> }

export function batchTrust (a: BatchAgent, now: number): number {
  const f = a.facts
  const count = (k: AnomalyKind): number => a.anomalies.filter((x) => kindOf(x.code) === k).length
  if (f.length === 0 && a.anomalies.length === 0) return 1
  const rot = f.filter((x) => x.rotation)
  const I = 0.3 * (count('chain_break') > 0 ? 0 : 1) + 0.25 * Math.max(0, 1 - count('fork') / 5) +
    0.25 * (f.length + count('bad_signature') === 0 ? 1 : f.length / (f.length + count('bad_signature'))) +
    0.2 * (rot.length === 0 ? 1 : rot.filter((x) => x.rotationAttested).length / rot.length)
  const ia = f.filter((x) => x.tsA2a)
  const w = (x: EventFacts): number => Math.exp(-Math.LN2 * (now - x.timestamp) / C.tsHalfLife)
  const V = ia.length === 0 ? 1 : ia.filter((x) => x.verified).reduce((s, x) => s + w(x), 0) / ia.reduce((s, x) => s + w(x), 0)
  const d = entropy(ia.filter((x) => inWin(x.timestamp, now, C.diversityWindow, C.longBucket)).map((x) => x.peer ?? 'unknown'))
  const D = d.n === 0 ? 1 : d.unique <= 1 ? 0 : d.h
  const el = f.filter((x) => x.finalizable)
  const F = el.length === 0 ? 1 : el.filter((x) => x.anchored).length / el.length
  let R = 1
  if (rot.length) {
    let sum = 0; let last: number | null = null
    for (const x of rot) {
      let h = 1
      if (!x.rotationAttested) h -= 0.6
      if (last !== null && x.timestamp - last < 7 * 86_400) h -= 0.3
      sum += Math.max(0, h); last = x.timestamp
    }
    R = sum / rot.length
  }
  return r4(cl(0.3 * I + 0.25 * V + 0.15 * D + 0.15 * F + 0.15 * R))
}

/** Naive TSI over the sequence of evaluations (time, trust score) made so far. */
export class BatchTsi {
  evals: Array<{ t: number, s: number, slot: number }> = []
  last = 'STABLE'
  since: number | null = null
  next (now: number, score: number): string {
    const slot = Math.floor(now / C.tsiSnapshotSlot)
    // One snapshot per slot: the last evaluation of each earlier slot, within 30 days.
    const bySlot = new Map<number, { t: number, s: number }>()
    for (const e of this.evals) bySlot.set(e.slot, { t: e.t, s: e.s })
    const snaps = [...bySlot.entries()].sort((x, y) => x[0] - y[0]).map(([sl, v]) => ({ slot: sl, ...v })).filter((x) => x.t >= now - C.tsiWindow)
    const base = snaps.filter((x) => x.slot < slot).map((x) => x.s)
    const at = (t: number): number | null => { const c = snaps.filter((x) => x.t <= t); return c.length ? c[c.length - 1].s : null }
    const a24 = at(now - 86_400)
    const d24 = a24 === null ? null : r4(score - a24)
    let z: number | null = null
    if (base.length >= 2) {
      const mean = base.reduce((a, b) => a + b, 0) / base.length
      const std = Math.sqrt(base.reduce((a, b) => a + (b - mean) ** 2, 0) / (base.length - 1))
      z = r4((mean - score) / Math.max(std, C.tsiMinStd))
    }
    let level = 'STABLE'
    if ((d24 !== null && d24 < -0.15) || (z !== null && z > 3)) level = 'UNSTABLE'
    else if ((d24 !== null && d24 < -0.08) || (z !== null && z > 1.8)) level = 'WATCH'
    if (level === 'STABLE') this.since = null
    else if (level === 'UNSTABLE' && this.since === null) this.since = now
    const state = level === 'UNSTABLE' && this.since !== null && now - this.since > 48 * 3600 ? 'CRITICAL' : level
    this.evals.push({ t: now, s: score, slot })
    this.last = state
    return state
  }
}

/** Greedy ±5 s matching of two sorted timestamp lists (the reference's algorithm). */
function greedy (a: number[], b: number[]): number {
  let j = 0; let m = 0
  for (const t of a) {
    while (j < b.length && b[j] < t - C.syncTolerance) j++
    if (j < b.length && b[j] <= t + C.syncTolerance) { m++; j++ }
  }
  return m
}

export function batchA2c (me: string, agents: Map<string, BatchAgent>, now: number): { risk: number, conc: number, ent: number, sync: number, sil: number } {
  const f = (agents.get(me) as BatchAgent).facts
  const ia = f.filter((x) => x.a2cA2a)
  const s = entropy(ia.filter((x) => inWin(x.timestamp, now, C.a2cShortWindow, C.shortBucket)).map((x) => x.peer ?? 'unknown'))
  const l = entropy(ia.filter((x) => inWin(x.timestamp, now, C.a2cLongWindow, C.longBucket)).map((x) => x.peer ?? 'unknown'))
  const conc = r4(cl(s.n === 0 || s.top <= 0.7 ? 0 : (s.top - 0.7) / 0.3))
  const delta = l.h - s.h
  const ent = r4(cl(l.n >= 5 && s.n > 0 && delta > 0 ? (delta <= 0.4 ? delta / 0.4 * 0.5 : Math.min(1, 0.5 + (delta - 0.4) * 2)) : 0))
  let sil = 0
  for (let i = 1; i < f.length; i++) {
    if (f[i].timestamp - f[i - 1].timestamp < C.silenceMin) continue
    const end = f[i].timestamp
    const burst = f.filter((x, k) => k >= i && x.timestamp >= end && x.timestamp <= end + 3600)
    sil = burst.length < 5 ? 0 : 0.4 * Math.min(1, (end - f[i - 1].timestamp) / 86_400 / 21) + 0.6 * Math.min(1, (burst.length - 5) / 5)
    if (burst.some((x) => !x.anchored)) sil /= 2
  }
  sil = r4(cl(sil))
  let sync = 0
  const peers = new Set<string>()
  for (const [id, ag] of agents) {
    if (id === me) continue
    if (ia.some((x) => x.peer === id) || ag.facts.some((x) => x.a2cA2a && x.peer === me)) peers.add(id)
  }
  const recent = (g: BatchAgent): EventFacts[] => g.facts.filter((x) => inWin(x.timestamp, now, C.a2cShortWindow, C.shortBucket))
  for (const p of peers) {
    const A = recent(agents.get(me) as BatchAgent); const B = recent(agents.get(p) as BatchAgent)
    if (A.length < 3 || B.length < 3) continue
    const corr = cl(greedy(A.map((x) => x.timestamp).sort((x, y) => x - y), B.map((x) => x.timestamp).sort((x, y) => x - y)) / Math.min(A.length, B.length))
    let sc = corr < 0.92 ? 0 : (corr - 0.92) / 0.08
    if ([...A, ...B].some((x) => !x.anchored)) sc /= 2
    sync = Math.max(sync, r4(cl(sc)))
  }
  const risk = r4(cl(0.3 * conc + 0.25 * ent + 0.25 * sync + 0.2 * sil))
  return { risk, conc, ent, sync, sil }
}

export function batchChain (a: BatchAgent): { score: number, floor: string | null } {
  const counts = new Map<AnomalyKind, number>()
  for (const x of a.anomalies) counts.set(kindOf(x.code), (counts.get(kindOf(x.code)) ?? 0) + 1)
  let sum = 0; let floor: string | null = null
  const rank = { WATCH: 1, ALERT: 2, CRITICAL: 3 } as const
  for (const [k, n] of counts) {
    sum += KIND_RULES[k].score(n)
    const fl = KIND_RULES[k].floor
    if (floor === null || rank[fl] > rank[floor as keyof typeof rank]) floor = fl
  }
  return { score: r4(cl(sum)), floor }
}

export function batchVrs (trust: number, tsi: string, a2c: number, chain: { score: number, floor: string | null }): { vrs: number, state: string } {
  const tw = ({ STABLE: 0, WATCH: 0.25, UNSTABLE: 1, CRITICAL: 1 } as Record<string, number>)[tsi]
  let vrs = r4(cl(0.2 * (1 - trust) + 0.35 * tw + 0.3 * a2c + 0.15 * chain.score))
  const floors: Record<string, number> = { WATCH: 0.25, ALERT: 0.5, CRITICAL: 0.75 }
  if (chain.floor !== null && vrs < floors[chain.floor]) vrs = floors[chain.floor]
  const state = chain.floor === 'CRITICAL' || vrs >= 0.75 ? 'CRITICAL' : vrs >= 0.5 ? 'ALERT' : vrs >= 0.25 ? 'WATCH' : 'SAFE'
  return { vrs, state }
}

export { eventFacts }
export type { AissEvent }
