// Refuses an oversize MQTT PUBLISH as soon as its fixed header arrives, before the packet is buffered.
// Both MQTT parsers the hub runs (aedes', for the embedded broker, and mqtt.js', for an external one)
// collect a whole packet before anyone sees it: a 100 MB PUBLISH through an external broker took the
// hub from 238 to 478 MiB (issue 14 #4), and the broker's own payload check (hub/broker.ts) runs only
// after aedes parsed it. The guard reads the same bytes as the parser, follows the framing (a type byte,
// a variable-length "remaining length", the body), and destroys the connection at the header of a
// PUBLISH longer than the limit: at most one socket read of it is ever held.
//
// It listens to 'data', which a stream emits for every chunk whether it is consumed by pipe (mqtt.js) or
// by read() (aedes), so it adds no buffering and needs no stream of its own in between.
import type { Duplex } from 'node:stream'

const PUBLISH = 3

/** Bytes a PUBLISH may have besides its payload: the topic (≤ 65,535 + 2), the packet id, MQTT 5 properties. */
export const PUBLISH_OVERHEAD_BYTES = 64 * 1024 + 1024

/** A framing follower: feed() every chunk in order; it returns the remaining length of the first oversize PUBLISH, else -1. */
export function framing (maxRemaining: number): { feed (chunk: Uint8Array): number } {
  let state: 'header' | 'length' | 'body' = 'header'
  let type = 0; let length = 0; let shift = 0; let skip = 0
  return {
    feed (chunk) {
      let i = 0
      while (i < chunk.length) {
        if (state === 'body') {
          const n = Math.min(skip, chunk.length - i)
          i += n; skip -= n
          if (skip === 0) state = 'header'
          continue
        }
        const b = chunk[i++]!
        if (state === 'header') { type = b >> 4; length = 0; shift = 0; state = 'length'; continue }
        length += (b & 0x7f) * 2 ** shift
        shift += 7
        if (b & 0x80) {
          if (shift >= 28) return length // more than 4 length bytes: not MQTT, the parser will refuse it too
          continue
        }
        if (type === PUBLISH && length > maxRemaining) return length
        skip = length
        state = length === 0 ? 'header' : 'body'
      }
      return -1
    }
  }
}

/**
 * Watches `stream` (a connection's socket) from its first byte; destroys it at the header of a PUBLISH
 * whose payload could exceed `maxPayloadBytes`, after calling `onRefused` with the packet's length.
 */
export function guardPublishSize (stream: Duplex, maxPayloadBytes: number, onRefused: (bytes: number) => void): void {
  const f = framing(maxPayloadBytes + PUBLISH_OVERHEAD_BYTES)
  const onData = (chunk: Buffer): void => {
    const over = f.feed(chunk)
    if (over < 0) return
    stream.off('data', onData)
    onRefused(over)
    stream.destroy(new Error(`MQTT packet of ${over} bytes exceeds the ${maxPayloadBytes}-byte payload limit`))
  }
  stream.prependListener('data', onData)
}
