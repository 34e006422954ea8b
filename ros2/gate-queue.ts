// Gated publishes leave in call order, per publisher. Each publish asks the gate at once (decisions
// may arrive in any order: a slow GO, then a fast STOP), but a message is released only after every
// earlier message of the same publisher has been released or refused. Without this, "GO, STOP" can
// arrive as "STOP, GO" and a controller that keeps the last command keeps moving.
// Latest-wins (AuditOptions.latestWins, for command topics): a message whose turn comes while a newer
// one is already queued is not sent; it is stamped topic_publish_superseded, so the chain shows it.
import type { NodeAuditor, Payload } from './auditor.js'

interface Item {
  ask: Payload
  settled: boolean
  allowed: boolean
  reason: string
  error: unknown
  release: () => void
  refuse: (reason: string, err?: unknown) => void
}

export class GateQueue {
  private readonly items: Item[] = []
  private readonly a: NodeAuditor
  private readonly latest: boolean
  private readonly topic: string

  constructor (a: NodeAuditor, topic: string, latestWins: boolean) {
    this.a = a; this.topic = topic; this.latest = latestWins
  }

  get pending (): number { return this.items.length }

  push (ask: Payload, decision: Promise<{ allowed: boolean, reason?: string }>, release: () => void, refuse: (reason: string, err?: unknown) => void): void {
    const item: Item = { ask, settled: false, allowed: false, reason: '', error: undefined, release, refuse }
    this.items.push(item)
    decision.then((d) => {
      item.allowed = d?.allowed === true
      item.reason = typeof d?.reason === 'string' ? d.reason : 'refused'
    }, (err) => {
      item.reason = 'gate_error' // fail closed: an unreachable gate must not mean "allowed"
      item.error = err
    }).finally(() => { item.settled = true; this.pump() })
  }

  private pump (): void {
    while (this.items.length > 0 && this.items[0]!.settled) {
      const item = this.items.shift()!
      try {
        if (!item.allowed) item.refuse(item.reason, item.error)
        else if (this.latest && this.items.length > 0) {
          this.a.stamp('topic_publish_superseded', { ...item.ask, superseded_by: this.items.at(-1)!.ask.msg_hash ?? null })
        } else item.release()
      } catch (err) {
        this.a.report(err, `topic_publish ${this.topic}`)
      }
    }
  }
}
