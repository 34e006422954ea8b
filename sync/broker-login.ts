// The device's login to the hub's embedded broker, shared by the device (sync/agent.ts sends it) and the
// hub (hub/broker-auth.ts checks it). Pure.
//
//   username   the chain ids (first agent_id of each chain, the topic level) this connection carries,
//              comma-separated: usually one, several when one SyncAgent forwards several agents
//   password   `pcp1.<ts>.<nonce>.<proof>[.<proof>...]`, one proof per chain in username order:
//              `<key>:<sig>[:<rotations>]`, base64url: the chain's current public key, its signature over
//              the statement `pcp.broker-login` (runtime/statement.ts) of { agents, client_id, ts, nonce },
//              and for a rotated chain the JSON array of its rotation attestations (runtime/rotation.ts),
//              oldest first, so a hub that knows only an older key can follow the chain of signatures to
//              the current one (a device that rotated offline must still be able to log in)
//
// Why a signature rather than a token issued at approval: the hub already holds every device's public
// key (the registry's), so there is no second secret to deliver to the device, store at the hub, leak
// or rotate; revoking the device in the registry revokes its login. Why a time window rather than a
// broker challenge: MQTT 3.1.1 (all the embedded broker speaks) has no challenge round in CONNECT. So a
// login is valid for LOGIN_WINDOW_SECONDS around the hub's clock and only once (the hub remembers its
// nonce): a password seen on the wire cannot be used again, and it names the client id it was made for.
// The public key is in the password so that a device the hub has never seen can log in for its first
// contact: its agent_id is derived from that key, so only its holder can log in under that id.
import { toBase64, fromBase64Strict, isAgentId, stringifyJson, parseJson, type StatementSigner, type JsonObject, type RotationAttestation } from '../runtime/index.js'

export const BROKER_LOGIN_STATEMENT = 'pcp.broker-login'
/** How far (seconds) a login's timestamp may be from the hub's clock: devices need a clock (NTP) within it. */
export const LOGIN_WINDOW_SECONDS = 600
const VERSION = 'pcp1'
const NONCE = /^[0-9a-f]{32}$/
const MAX_AGENTS = 64

/** One chain a connection carries: its id (topic level) and the key that signs for it now. */
export interface LoginKey {
  chainId: string
  signer: StatementSigner
  /** The chain's rotation attestations, oldest first (none for a chain that never rotated). */
  rotations?: () => readonly RotationAttestation[]
}

export interface ParsedLogin { agents: string[], ts: number, nonce: string, proofs: Array<{ publicKey: Uint8Array, signature: Uint8Array, rotations: unknown[] }> }

/** Rotations one proof may carry. */
export const MAX_ROTATIONS = 32

export function loginStatement (agents: readonly string[], clientId: string, ts: number, nonce: string): JsonObject {
  return { agents: [...agents], client_id: clientId, ts, nonce }
}

/** Fresh credentials for one CONNECT (a login is single-use: make new ones for every attempt). */
export function loginCredentials (keys: readonly LoginKey[], clientId: string, ts: number, nonce: string): { username: string, password: string } {
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_AGENTS) throw new TypeError(`"keys" expected 1-${MAX_AGENTS} chains, got ${Array.isArray(keys) ? keys.length : typeof keys}`)
  if (!NONCE.test(nonce)) throw new TypeError('"nonce" expected 32 lower-case hex digits')
  const agents = keys.map((k) => k.chainId)
  const statement = loginStatement(agents, clientId, ts, nonce)
  const proofs = keys.map((k) => {
    const rotations = k.rotations?.() ?? []
    const proof = `${b64url(k.signer.publicKey)}:${b64url(k.signer.signStatement(BROKER_LOGIN_STATEMENT, statement))}`
    return rotations.length === 0 ? proof : `${proof}:${b64url(new TextEncoder().encode(stringifyJson(rotations.slice(-MAX_ROTATIONS))))}`
  })
  return { username: agents.join(','), password: [VERSION, String(ts), nonce, ...proofs].join('.') }
}

/** Reads untrusted CONNECT credentials; a problem string when they are not a PCP login. */
export function parseLogin (username: unknown, password: unknown): ParsedLogin | string {
  if (typeof username !== 'string' || username.length === 0) return 'no username'
  const pw = typeof password === 'string' ? password : password instanceof Uint8Array ? Buffer.from(password).toString('latin1') : null
  if (pw === null) return 'no password'
  const agents = username.split(',')
  if (agents.length > MAX_AGENTS || !agents.every((a) => isAgentId(a)) || new Set(agents).size !== agents.length) return 'username is not a list of distinct agent ids'
  const parts = pw.split('.')
  if (parts[0] !== VERSION || parts.length !== 3 + agents.length) return `password is not a ${VERSION} login for ${agents.length} agent(s)`
  const ts = Number(parts[1])
  if (!/^\d{1,12}$/.test(parts[1]!) || !Number.isSafeInteger(ts)) return 'password timestamp is not Unix seconds'
  const nonce = parts[2]!
  if (!NONCE.test(nonce)) return 'password nonce is not 32 hex digits'
  const proofs: ParsedLogin['proofs'] = []
  for (const p of parts.slice(3)) {
    const [k, s, r, extra] = p.split(':')
    const publicKey = k === undefined ? null : fromB64url(k)
    const signature = s === undefined ? null : fromB64url(s)
    if (extra !== undefined || publicKey?.length !== 32 || signature?.length !== 64) return 'password proof is not key:signature[:rotations] (32 and 64 bytes, base64url)'
    let rotations: unknown[] = []
    if (r !== undefined) {
      const bytes = fromB64url(r)
      try { rotations = parseJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes ?? new Uint8Array([0xff]))) as unknown[] } catch { return 'password rotations are not base64url JSON' }
      if (!Array.isArray(rotations) || rotations.length > MAX_ROTATIONS) return `password rotations are not an array of at most ${MAX_ROTATIONS}`
    }
    proofs.push({ publicKey, signature, rotations })
  }
  return { agents, ts, nonce, proofs }
}

function b64url (bytes: Uint8Array): string { return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') }

function fromB64url (text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null
  const std = text.replace(/-/g, '+').replace(/_/g, '/')
  return fromBase64Strict(std + '='.repeat((4 - std.length % 4) % 4))
}
