// Shared plumbing for the ros2-*.test.ts suites: a real Agent on a fresh temp home, the stand-in
// ROS graph (ros2/standin — NOT ROS 2), a controllable clock, and small waiting helpers.
import { Agent, type AissEvent } from '../runtime/index.js'
import { createStandin, type Standin } from '../ros2/standin/index.js'
import type { AuditClock } from '../ros2/policy.js'
import { tmpDir } from './helpers.js'
import { wireHash } from '../ros2/msg-hash.js'

export interface Rig { agent: Agent, ros: Standin, home: string }

/** Runs fn with a real Agent (durable store in a temp dir) and a fresh stand-in graph; cleans both. */
export async function withRig (fn: (rig: Rig) => Promise<void>, opts: { rosNowNs?: () => bigint } = {}): Promise<void> {
  const tmp = tmpDir('pcp-ros2-')
  const agent = await Agent.open({ name: 'robot' }, { home: tmp.path })
  const ros = createStandin(opts.rosNowNs ? { clock: { nowNs: opts.rosNowNs } } : {})
  await ros.rclnodejs.init() // required before any node, as in rclnodejs
  try {
    await fn({ agent, ros, home: tmp.path })
  } finally {
    ros.rclnodejs.shutdown()
    await agent.close()
    tmp.cleanup()
  }
}

export async function chain (agent: Agent): Promise<AissEvent[]> { return agent.history() }

export const typesOf = (events: AissEvent[]): string[] => events.map((e) => String(e.payload.event_type))

export const ofType = (events: AissEvent[], type: string): AissEvent[] => events.filter((e) => e.payload.event_type === type)

/** Polls until pred() is true; fails the test (throws) after `ms`. */
export async function until (pred: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Lets the stand-in deliver what is in flight (it delivers with setImmediate). */
export const settle = async (rounds = 5): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r))
}

/** A test clock: time moves only when the test says; timers fire on advance(). */
export function manualClock (start = 1_000_000): AuditClock & { advance (ms: number): void, now: number } {
  let seq = 0
  const timers = new Map<number, { at: number, fn: () => void }>()
  const clock = {
    now: start,
    nowMs: () => clock.now,
    setTimeout: (fn: () => void, ms: number) => { const id = ++seq; timers.set(id, { at: clock.now + ms, fn }); return id },
    clearTimeout: (h: unknown) => { timers.delete(h as number) },
    advance: (ms: number) => {
      clock.now += ms
      for (const [id, t] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= clock.now) { timers.delete(id); t.fn() }
      }
    }
  }
  return clock
}

/** msg_hash under the wire recipe of `msg` as the stand-in's type class serializes it (what rclnodejs sends). */
export function cdrHash (ros: Standin, type: string, msg: unknown): string {
  const T = ros.rclnodejs.require(type)
  return wireHash(ros.rclnodejs.serializeMessage(new T(msg), T))
}
