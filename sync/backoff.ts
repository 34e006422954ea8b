// Reconnect timing, pure. Exponential with full jitter: a fleet that lost the same broker (or hub) at the
// same moment must not come back in lockstep, or the first seconds after an outage are a thundering herd
// of CONNECTs and handshakes. The floor stays `minMs` so a lone device is never slower than configured.

/** Delay before reconnect attempt `attempt` (0-based): uniform in [minMs, min(maxMs, minMs·2^attempt)]. */
export function jitteredDelay (attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`"attempt" expected a non-negative integer, got ${String(attempt)}`)
  if (!(minMs > 0) || !(maxMs >= minMs)) throw new RangeError(`"minMs"/"maxMs" expected 0 < min <= max, got ${minMs}/${maxMs}`)
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 40))
  return Math.round(minMs + random() * (ceiling - minMs))
}
