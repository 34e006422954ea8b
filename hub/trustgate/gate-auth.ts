// Who is asking the gate. A gate request is the device's claim about what it is about to do; it changes
// hub state (the signed journal, escalation towards RESTRICTED), so it is taken only from the device
// itself: signed by the key the hub's registry holds for the topic's agent, fresh, and never seen before
// (sync/gate-wire.ts describes the signed statement). The role is the registry's, set at approval.
//
// Freshness: a device nonce plus a timestamp window, not a hub-issued challenge. A challenge costs a
// second round trip on every check (an actuator waits for it) or a session that a hub restart drops;
// the window costs the hub only the nonces of the last 2 × GATE_WINDOW_SECONDS, per agent and bounded,
// and a device whose clock is off learns the hub's time from the REQUEST_STALE refusal and asks again.
// Across a hub restart the nonce cache is empty, but a replayed request within the window names the same
// request_id and so the same decision id, which the service restores from the journal and returns as it
// was (no second journal entry, no escalation): a replay has no effect there either.
//
// Refusals are cheap and leave no trace but a counter: the registry check and the clock come before the
// signature check, and none of them writes to the journal or touches any agent's state.
import { verifyStatement, type JsonObject } from '../../runtime/index.js'
import { GATE_STATEMENT, GATE_WINDOW_SECONDS, gateStatement } from '../../sync/gate-wire.js'

/** Refusal codes of gate requests (also the `reason` label of pcp_gate_refused_total). */
export const GateAuthCodes = {
  AGENT_UNKNOWN: 'AGENT_UNKNOWN',
  AGENT_PENDING: 'AGENT_PENDING',
  AGENT_REVOKED: 'AGENT_REVOKED',
  REQUEST_UNSIGNED: 'REQUEST_UNSIGNED',
  REQUEST_SIGNATURE_INVALID: 'REQUEST_SIGNATURE_INVALID',
  REQUEST_STALE: 'REQUEST_STALE',
  REQUEST_REPLAYED: 'REQUEST_REPLAYED',
  REQUEST_RATE_LIMITED: 'REQUEST_RATE_LIMITED'
} as const
export type GateAuthCode = typeof GateAuthCodes[keyof typeof GateAuthCodes]

/** The role a device gets when its approval named none. */
export const DEFAULT_DEVICE_ROLE = 'operator'

/** What the gate needs to know of a device: the hub's registry answers it (hub/registry.ts). */
export interface GateDevice { state: 'allowed' | 'pending' | 'revoked', publicKey: Uint8Array | null, role: string }
export interface GateDevices { device (agentId: string): GateDevice | undefined }

/** A fixed set of allowed devices, for a gate without a hub registry (benchmarks, tests of the gate alone). */
export function allowedDevices (devices: ReadonlyArray<{ agentId: string, publicKey: Uint8Array, role?: string }>): GateDevices {
  const byId = new Map(devices.map((d) => [d.agentId, { state: 'allowed' as const, publicKey: d.publicKey, role: d.role ?? DEFAULT_DEVICE_ROLE }]))
  return { device: (agentId) => byId.get(agentId) }
}

export type GateAuthVerdict = { ok: true, role: string } | { ok: false, code: GateAuthCode, message: string, hubTime?: number }

/** Nonces kept per agent inside the window; beyond it the agent's requests are refused until some expire. */
export const MAX_NONCES_PER_AGENT = 10_000

export class GateAuthenticator {
  readonly #devices: GateDevices
  readonly #now: () => number
  readonly #window: number
  readonly #seen = new Map<string, Map<string, number>>() // agent → nonce → forget after (Unix s)

  /** `now`: Unix seconds. */
  constructor (devices: GateDevices, opts: { now?: () => number, windowSeconds?: number } = {}) {
    if (typeof devices?.device !== 'function') throw new TypeError('"devices" expected a GateDevices (the hub registry)')
    this.#devices = devices
    this.#now = opts.now ?? (() => Math.floor(Date.now() / 1000))
    this.#window = opts.windowSeconds ?? GATE_WINDOW_SECONDS
  }

  /** Checks one request envelope that arrived on `agentId`'s topic. Records its nonce when it passes. */
  check (agentId: string, env: Record<string, unknown>): GateAuthVerdict {
    const dev = this.#devices.device(agentId)
    if (dev === undefined) return refuse(GateAuthCodes.AGENT_UNKNOWN, `agent ${agentId} is not registered with this hub`)
    if (dev.state === 'pending') return refuse(GateAuthCodes.AGENT_PENDING, `agent ${agentId} waits for approval: pcp hub approve ${agentId}`)
    if (dev.state === 'revoked') return refuse(GateAuthCodes.AGENT_REVOKED, `agent ${agentId} is revoked`)
    if (dev.publicKey === null) return refuse(GateAuthCodes.AGENT_UNKNOWN, `agent ${agentId} is approved but has not sent its identity yet`)
    const auth = env.auth as { ts?: unknown, nonce?: unknown, sig?: unknown } | undefined
    if (auth === null || typeof auth !== 'object') return refuse(GateAuthCodes.REQUEST_UNSIGNED, 'the request carries no auth {ts, nonce, sig}')
    const now = this.#now()
    if (!Number.isSafeInteger(auth.ts)) return refuse(GateAuthCodes.REQUEST_UNSIGNED, 'auth.ts must be an integer (Unix seconds)')
    const ts = auth.ts as number
    if (Math.abs(ts - now) > this.#window) {
      return { ok: false, code: GateAuthCodes.REQUEST_STALE, message: `auth.ts ${ts} is ${ts - now} s from the hub's clock (${now}); at most ${this.#window} s allowed`, hubTime: now }
    }
    const statement: JsonObject | null = gateStatement(agentId, env, auth)
    if (statement === null) return refuse(GateAuthCodes.REQUEST_UNSIGNED, 'auth.nonce must be 16-64 lower-case hex digits, and the request needs a corr and a canonical-JSON payload')
    const nonce = auth.nonce as string
    const seen = this.#seen.get(agentId)
    if (seen?.has(nonce)) return refuse(GateAuthCodes.REQUEST_REPLAYED, `nonce ${nonce} was already used by ${agentId}`)
    if (!verifyStatement(auth.sig, GATE_STATEMENT, statement, dev.publicKey)) return refuse(GateAuthCodes.REQUEST_SIGNATURE_INVALID, `the request's signature does not verify with ${agentId}'s key`)
    if (!this.#remember(agentId, nonce, Math.max(ts, now) + this.#window, now)) return refuse(GateAuthCodes.REQUEST_RATE_LIMITED, `${MAX_NONCES_PER_AGENT} requests of ${agentId} within ${2 * this.#window} s`)
    return { ok: true, role: dev.role }
  }

  #remember (agentId: string, nonce: string, until: number, now: number): boolean {
    let seen = this.#seen.get(agentId)
    if (seen === undefined) { seen = new Map(); this.#seen.set(agentId, seen) }
    // Insertion order is roughly expiry order: dropping expired ones from the front keeps this O(1).
    for (const [n, t] of seen) { if (t >= now) break; seen.delete(n) }
    if (seen.size >= MAX_NONCES_PER_AGENT) {
      for (const [n, t] of seen) if (t < now) seen.delete(n)
      if (seen.size >= MAX_NONCES_PER_AGENT) return false
    }
    seen.set(nonce, until)
    return true
  }
}

function refuse (code: GateAuthCode, message: string): GateAuthVerdict { return { ok: false, code, message } }
