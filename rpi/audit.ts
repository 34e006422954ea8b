// Chain order = call order. A sensor loop, a heartbeat and a GPIO interrupt can all stamp "at once";
// each bridge call is appended after the previous one for the same stamper, so the chain records
// events in the order the script caused them, whatever the stamper does internally. A failed stamp
// does not block the ones after it: the caller that awaited it gets the error.
import { Agent, hashValue, type AissEvent, type JsonValue, type Stamper } from '../runtime/index.js'

export type Payload = { [key: string]: JsonValue }

const tails = new WeakMap<Stamper, Promise<unknown>>()

export function stampInOrder (stamper: Stamper, eventType: string, payload: Payload): Promise<AissEvent> {
  // An Agent already chains concurrent stamps in call order and fsyncs them in one group commit; queueing
  // here would serialise those fsyncs (one per reading), so it is called directly.
  if (stamper instanceof Agent) return stamper.stamp(eventType, payload)
  const prev = tails.get(stamper) ?? Promise.resolve()
  const next = prev.then(() => stamper.stamp(eventType, payload), () => stamper.stamp(eventType, payload))
  tails.set(stamper, next.catch(() => undefined))
  return next
}

/** Resolves once every stamp queued so far for this stamper has settled. */
export async function drain (stamper: Stamper): Promise<void> {
  await tails.get(stamper)
  if (stamper instanceof Agent) await stamper.store.flush()
}

export { hashValue }

/**
 * The privacy recipe is the core's hashValue: SHA-256, lowercase hex, of the canonical JSON of the value.
 * Anyone holding the value can recompute and check it; nobody can read it off the chain, unless the value
 * is guessable (a bit, a temperature): then pass a secret salt, kept off the chain, which is hashed as
 * hashValue({"salt": salt, "value": value}).
 */
export function hashSalted (value: JsonValue, salt?: string): string {
  return salt === undefined ? hashValue(value) : hashValue({ salt, value })
}

export function checkStamper (stamper: unknown, name = 'stamper'): Stamper {
  if (!stamper || typeof (stamper as Stamper).stamp !== 'function') {
    throw new TypeError(`"${name}" expected an object with stamp(eventType, payload) (an Agent), got ${stamper === null ? 'null' : typeof stamper}`)
  }
  return stamper as Stamper
}
