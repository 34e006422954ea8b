// Trusted-time state of one agent as Vigil sees its chain (README "Trusted time"): how many events
// arrived since its last `anchor` event, since when, and whether that has lasted longer than
// anchorOverdueSeconds. Only an agent that has anchored at least once can be overdue: anchoring is
// opt-in per device, and a chain that never anchors is not "pending". A device that is offline sends
// nothing; one whose TSA is down keeps syncing unanchored events, and that is what this catches.
import type { AissEvent } from '../../runtime/types.js'
import { ANCHOR_EVENT_TYPE } from '../../runtime/anchor/payload.js'

export interface AnchoringJSON {
  anchors: number
  lastAnchorAt: number | null
  unanchored: number
  oldestUnanchoredAt: number | null
  alerted: boolean
}

export interface AnchoringState {
  anchors: number
  /** The last anchor event's timestamp (the device clock; its token's genTime is checked by pcp verify). */
  lastAnchorAt: number | null
  /** Events after the last anchor event. */
  unanchored: number
  oldestUnanchoredAt: number | null
  /** Seconds the oldest unanchored event has waited. */
  pendingSeconds: number
  overdue: boolean
}

export class AnchorWatch {
  anchors = 0
  lastAnchorAt: number | null = null
  unanchored = 0
  oldestUnanchoredAt: number | null = null
  /** An overdue alert is open (raised once per episode). */
  alerted = false

  onEvent (event: AissEvent, timestamp: number): void {
    if (event.payload.event_type === ANCHOR_EVENT_TYPE) {
      this.anchors++
      this.lastAnchorAt = timestamp
      this.unanchored = 0
      this.oldestUnanchoredAt = null
    } else {
      this.unanchored++
      this.oldestUnanchoredAt ??= timestamp
    }
  }

  state (now: number, overdueSeconds: number): AnchoringState {
    const pendingSeconds = this.oldestUnanchoredAt === null ? 0 : Math.max(0, now - this.oldestUnanchoredAt)
    return {
      anchors: this.anchors,
      lastAnchorAt: this.lastAnchorAt,
      unanchored: this.unanchored,
      oldestUnanchoredAt: this.oldestUnanchoredAt,
      pendingSeconds,
      overdue: this.anchors > 0 && pendingSeconds > overdueSeconds
    }
  }

  toJSON (): AnchoringJSON {
    return { anchors: this.anchors, lastAnchorAt: this.lastAnchorAt, unanchored: this.unanchored, oldestUnanchoredAt: this.oldestUnanchoredAt, alerted: this.alerted }
  }

  static fromJSON (j: AnchoringJSON | undefined): AnchorWatch {
    const w = new AnchorWatch()
    if (j) Object.assign(w, j)
    return w
  }
}
