// Authentication and ACL of the embedded broker (hub/broker.ts), backed by the hub's registry.
//
// Who may connect:
//   the hub's own client   username HUB_USERNAME and a random password made at start, held only in this
//                          process's memory; full access
//   a device               a signed login (sync/broker-login.ts) for each chain it carries, made for this
//                          client id, within LOGIN_WINDOW_SECONDS of the hub's clock and never used before.
//                          Each chain's key is the registry's current key for it; a chain the registry does
//                          not know logs in with the key its id derives from (first contact: the registry
//                          then holds it pending or allows it, as its approval mode says); a revoked one
//                          is refused
//   anyone else            refused (CONNACK 4, bad user name or password)
// What a device may do (everything else is refused and counted):
//   publish    <prefix>/<own chain>/up, and <prefix>/<any agent>/a2a (A2A requests and replies are
//              addressed to the peer; their bodies are signed, sync/a2a-transport.ts); never retained
//   subscribe  <prefix>/<own chain>/down and <prefix>/<own chain>/a2a, exactly (no wildcards)
// A client id in use by another identity is refused, so a device cannot take over another's session.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { deriveAgentId, verifyStatement, verifyRotationAttestation } from '../runtime/index.js'
import { equalBytes } from '../runtime/encoding.js'
import { BROKER_LOGIN_STATEMENT, LOGIN_WINDOW_SECONDS, loginStatement, parseLogin } from '../sync/broker-login.js'
import { A2A_CHANNEL } from '../sync/a2a-transport.js'
import { checkPrefix, isAgentIdShape } from '../sync/topics.js'

export const HUB_USERNAME = 'pcp-hub'

/** Reasons a connect, publish or subscribe was refused (the `reason` label of pcp_broker_refused_total). */
export const BrokerRefusals = {
  LOGIN_MISSING: 'LOGIN_MISSING',
  LOGIN_MALFORMED: 'LOGIN_MALFORMED',
  LOGIN_STALE: 'LOGIN_STALE',
  LOGIN_REPLAYED: 'LOGIN_REPLAYED',
  LOGIN_SIGNATURE_INVALID: 'LOGIN_SIGNATURE_INVALID',
  LOGIN_KEY_UNKNOWN: 'LOGIN_KEY_UNKNOWN',
  LOGIN_REVOKED: 'LOGIN_REVOKED',
  LOGIN_RATE_LIMITED: 'LOGIN_RATE_LIMITED',
  CLIENT_ID_TAKEN: 'CLIENT_ID_TAKEN',
  PUBLISH_DENIED: 'PUBLISH_DENIED',
  SUBSCRIBE_DENIED: 'SUBSCRIBE_DENIED'
} as const
export type BrokerRefusal = typeof BrokerRefusals[keyof typeof BrokerRefusals]

/** What the broker needs to know of a chain: the registry answers it. */
export interface BrokerDevices { device (chainId: string): { state: 'allowed' | 'pending' | 'revoked', publicKey: Uint8Array | null } | undefined }

/** Who a connection is, once authenticated. */
export type BrokerIdentity = { hub: true } | { hub: false, agents: ReadonlySet<string>, ups: ReadonlySet<string>, subscriptions: ReadonlySet<string> }

export interface BrokerAuthOptions {
  devices: BrokerDevices
  prefix: string
  /** Unix seconds. */
  now?: () => number
  onRefused?: (reason: BrokerRefusal, detail: string) => void
}

/** Logins remembered at most (their nonces, for the window): a flood of valid logins is refused beyond it. */
const MAX_NONCES = 100_000

export class BrokerAuth {
  /** The hub's own credentials: pass them to the hub's MQTT client. */
  readonly hubCredentials = { username: HUB_USERNAME, password: randomBytes(32).toString('hex') }
  readonly #o: BrokerAuthOptions
  readonly #prefix: string
  readonly #now: () => number
  readonly #nonces = new Map<string, number>() // nonce → forget after (Unix s)

  constructor (opts: BrokerAuthOptions) {
    if (typeof opts?.devices?.device !== 'function') throw new TypeError('"devices" expected a BrokerDevices (the hub registry)')
    this.#o = opts
    this.#prefix = checkPrefix(opts.prefix)
    this.#now = opts.now ?? (() => Math.floor(Date.now() / 1000))
  }

  /**
   * Checks a CONNECT. `holder`: who is connected with this client id now (the broker would close that
   * session for this one). Null when refused (the refusal is counted).
   */
  authenticate (clientId: string, username: unknown, password: unknown, holder?: BrokerIdentity): BrokerIdentity | null {
    const id = this.#login(clientId, username, password)
    if (id === null) return null
    if (holder !== undefined && identityKey(holder) !== identityKey(id)) return this.#refuse(BrokerRefusals.CLIENT_ID_TAKEN, `client id ${clientId} is in use by another identity`)
    return id
  }

  #login (clientId: string, username: unknown, password: unknown): BrokerIdentity | null {
    if (username === undefined && password === undefined) return this.#refuse(BrokerRefusals.LOGIN_MISSING, 'no credentials')
    if (username === HUB_USERNAME) {
      const pw = typeof password === 'string' ? Buffer.from(password) : password instanceof Uint8Array ? Buffer.from(password) : Buffer.alloc(0)
      const want = Buffer.from(this.hubCredentials.password)
      return pw.length === want.length && timingSafeEqual(pw, want) ? { hub: true } : this.#refuse(BrokerRefusals.LOGIN_SIGNATURE_INVALID, 'wrong hub password')
    }
    const login = parseLogin(username, password)
    if (typeof login === 'string') return this.#refuse(BrokerRefusals.LOGIN_MALFORMED, login)
    const now = this.#now()
    if (Math.abs(login.ts - now) > LOGIN_WINDOW_SECONDS) return this.#refuse(BrokerRefusals.LOGIN_STALE, `login time ${login.ts} is ${login.ts - now} s from the hub's clock (at most ${LOGIN_WINDOW_SECONDS} s: is the device's clock set?)`)
    if (this.#nonces.has(login.nonce)) return this.#refuse(BrokerRefusals.LOGIN_REPLAYED, `login nonce ${login.nonce} was already used`)
    const statement = loginStatement(login.agents, clientId, login.ts, login.nonce)
    for (const [i, chainId] of login.agents.entries()) {
      const { publicKey, signature, rotations } = login.proofs[i]!
      const dev = this.#o.devices.device(chainId)
      if (dev?.state === 'revoked') return this.#refuse(BrokerRefusals.LOGIN_REVOKED, `${chainId} is revoked`)
      // From the registry's current key (or, not registered or approved before its first contact, the key
      // the id derives from), through the rotations the hub has not seen yet, to the key that signed this.
      if (!reaches(dev?.publicKey ?? null, chainId, rotations, publicKey)) return this.#refuse(BrokerRefusals.LOGIN_KEY_UNKNOWN, `the key offered for ${chainId} is not the one the hub holds for it, nor attested by it`)
      if (!verifyStatement(signature, BROKER_LOGIN_STATEMENT, statement, publicKey)) return this.#refuse(BrokerRefusals.LOGIN_SIGNATURE_INVALID, `the login signature for ${chainId} does not verify`)
    }
    if (!this.#remember(login.nonce, Math.max(login.ts, now) + LOGIN_WINDOW_SECONDS, now)) return this.#refuse(BrokerRefusals.LOGIN_RATE_LIMITED, `${MAX_NONCES} logins within ${2 * LOGIN_WINDOW_SECONDS} s`)
    // The exact topics, made once: the per-message check is then one Set lookup.
    return {
      hub: false,
      agents: new Set(login.agents),
      ups: new Set(login.agents.map((a) => `${this.#prefix}/${a}/up`)),
      subscriptions: new Set(login.agents.flatMap((a) => [`${this.#prefix}/${a}/down`, `${this.#prefix}/${a}/${A2A_CHANNEL}`]))
    }
  }

  #remember (nonce: string, until: number, now: number): boolean {
    for (const [n, t] of this.#nonces) { if (t >= now) break; this.#nonces.delete(n) }
    if (this.#nonces.size >= MAX_NONCES) return false
    this.#nonces.set(nonce, until)
    return true
  }

  mayPublish (id: BrokerIdentity | undefined, topic: string, retain: boolean): boolean {
    if (id?.hub === true) return true
    const ok = id !== undefined && !retain && (id.ups.has(topic) || this.#split(topic)?.channel === A2A_CHANNEL)
    if (!ok) this.#refuse(BrokerRefusals.PUBLISH_DENIED, `publish on ${topic.slice(0, 200)}${retain ? ' (retained)' : ''}`)
    return ok
  }

  maySubscribe (id: BrokerIdentity | undefined, filter: string): boolean {
    if (id?.hub === true) return true
    const ok = id !== undefined && id.subscriptions.has(filter)
    if (!ok) this.#refuse(BrokerRefusals.SUBSCRIBE_DENIED, `subscribe to ${filter.slice(0, 200)}`)
    return ok
  }

  /** `<prefix>/<agent_id>/<channel>` with a well-formed id (so no wildcard can hide in it), else null. */
  #split (topic: string): { agentId: string, channel: string } | null {
    if (typeof topic !== 'string' || !topic.startsWith(this.#prefix + '/')) return null
    const rest = topic.slice(this.#prefix.length + 1).split('/')
    if (rest.length !== 2 || !isAgentIdShape(rest[0])) return null
    return { agentId: rest[0]!, channel: rest[1]! }
  }

  #refuse (reason: BrokerRefusal, detail: string): null {
    this.#o.onRefused?.(reason, detail)
    return null
  }
}

/**
 * Whether `offered` is `start` or follows from it by signed rotations: each attestation is signed by the
 * previous key (runtime/rotation.ts), so the chain of signatures from a key the hub trusts is the proof.
 * With no `start`, the first trusted key is the one `chainId` derives from.
 */
function reaches (start: Uint8Array | null, chainId: string, rotations: readonly unknown[], offered: Uint8Array): boolean {
  let cur = start
  if (cur !== null && equalBytes(cur, offered)) return true
  if (cur === null && deriveAgentId(offered) === chainId) return true
  for (const att of rotations) {
    const r = verifyRotationAttestation(att)
    if (!r.ok) return false
    if (cur === null && deriveAgentId(r.oldPublicKey) === chainId) cur = r.oldPublicKey
    if (cur !== null && equalBytes(r.oldPublicKey, cur)) cur = r.newPublicKey
  }
  return cur !== null && equalBytes(cur, offered)
}

function identityKey (id: BrokerIdentity): string { return id.hub ? HUB_USERNAME : [...id.agents].sort().join(',') }
