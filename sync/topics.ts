// The PCP MQTT topic scheme: pure build/parse functions, no I/O. This header is the reference for it.
//
// Topics (prefix defaults to `pcp/v1`; a deployment or a test run may choose another, e.g. `site-a/pcp/v1`):
//
//   <prefix>/<agent_id>/up     device → hub   QoS 1, never retained.
//       Everything an agent's sync agent sends: event batches, its identity document, and requests
//       ("what is the hub's head for me", later TrustGate gate checks). Payload: one CBOR envelope
//       (cbor-x, plain maps, no tags) `{ v: 1, kind, ... }`; kinds `events` (a batch of AissEvent in chain
//       order), `identity` (the IdentityDocument), `head?` and other requests (carry `corr`, see below).
//       At most MAX_PAYLOAD_BYTES encoded; the sync agent splits larger batches and the hub refuses bigger.
//   <prefix>/<agent_id>/down   hub → device   QoS 1, never retained.
//       Everything the hub says to that agent: acks of verified batches (with the hub's head), rejections,
//       and responses. Payload: CBOR envelope `{ v: 1, kind, ... }`; a response echoes the request's `corr`.
//       `hello` (unsolicited, at every hub (re)subscribe): a device waiting on an answer asks again now.
//
// Why one upstream topic per agent rather than `events` + `identity` + `request` topics:
// - MQTT orders messages per topic only, so an identity document and the first batch that needs it, or a
//   batch and the head request after it, are only ordered if they share a topic.
// - Several hubs behind a clustered broker share the load with `$share/<group>/<prefix>/+/up` and a
//   per-topic hash (EMQX `hash_topic`): one topic per agent pins all of an agent's traffic to one hub, so
//   that hub sees the whole chain in order. With separate topics the parts would hash to different hubs.
//
// Request/response: the embedded broker (aedes 1.2) speaks MQTT 3.1.1 only, and the protocol must behave
// the same over it and over Mosquitto/EMQX, so correlation travels in the payload, not in MQTT 5
// properties: a request carries `corr` (8–16 random bytes chosen by the requester); the response arrives
// on the requester's own `down` topic with the same `corr`. The reply topic is implied, never taken from
// the request, so a device cannot make the hub publish to another agent's topics.
//
// Wildcards (`+`, `#`), the separator `/`, NUL and a leading `$` can never appear in an agent_id or a
// prefix level: an agent_id is checked for its exact shape (Base58, 32 chars) before use in a topic.

/** The default root of every PCP topic. */
export const DEFAULT_PREFIX = 'pcp/v1'

/** Largest CBOR envelope we publish or accept on any PCP topic (1 MiB). See hub/broker.ts for why. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024

/** The channels under an agent's topic root. Adding one is compatible; renaming one is not. */
export const CHANNELS = ['up', 'down'] as const
export type Channel = typeof CHANNELS[number]

/** MQTT QoS of each channel: at-least-once, because the hub acks on `down` only after verifying. */
export const CHANNEL_QOS: Readonly<Record<Channel, 1>> = { up: 1, down: 1 }

// Same shape as runtime/identity.ts (protocol.md §2): Base58 alphabet (no 0, O, I, l), exactly 32 chars.
const AGENT_ID_SHAPE = /^[1-9A-HJ-NP-Za-km-z]{32}$/
const SHARE_GROUP_SHAPE = /^[A-Za-z0-9_-]{1,64}$/

export type ParsedTopic =
  | { ok: true, agentId: string, channel: Channel }
  | { ok: false, reason: string }

/** True for a well-formed agent_id (shape only: it does not prove the id was derived from a key). */
export function isAgentIdShape (value: unknown): value is string {
  return typeof value === 'string' && AGENT_ID_SHAPE.test(value)
}

/** Throws TypeError naming the offending prefix level. Returns the prefix without surrounding slashes. */
export function checkPrefix (prefix: string): string {
  if (typeof prefix !== 'string' || prefix.length === 0) throw new TypeError(`"prefix" expected a non-empty string, got ${describe(prefix)}`)
  const levels = prefix.split('/')
  for (const [i, level] of levels.entries()) {
    // An empty level would make `a//b` or a leading/trailing slash: legal MQTT, but a classic source of
    // topics that look equal and are not.
    if (level.length === 0) throw new TypeError(`"prefix" level ${i} is empty in ${JSON.stringify(prefix)}`)
    if (/[+#\0]/.test(level)) throw new TypeError(`"prefix" level ${i} contains a wildcard or NUL: ${JSON.stringify(level)}`)
  }
  // `$`-topics are the broker's ($SYS, $share): a prefix there would never be delivered to `+` subscribers.
  if (prefix.startsWith('$')) throw new TypeError(`"prefix" must not start with '$', got ${JSON.stringify(prefix)}`)
  return prefix
}

/** `<prefix>/<agent_id>/<channel>`. Throws TypeError for a malformed agent_id, prefix or channel. */
export function agentTopic (agentId: string, channel: Channel, prefix: string = DEFAULT_PREFIX): string {
  if (!isAgentIdShape(agentId)) throw new TypeError(`"agentId" expected Base58, 32 chars, got ${describe(agentId)}`)
  if (!isChannel(channel)) throw new TypeError(`"channel" expected one of ${CHANNELS.join(', ')}, got ${describe(channel)}`)
  return `${checkPrefix(prefix)}/${agentId}/${channel}`
}

export function upTopic (agentId: string, prefix: string = DEFAULT_PREFIX): string { return agentTopic(agentId, 'up', prefix) }
export function downTopic (agentId: string, prefix: string = DEFAULT_PREFIX): string { return agentTopic(agentId, 'down', prefix) }

/**
 * The hub's subscription filter for every agent's `up` topic. With `shareGroup`, an MQTT shared
 * subscription (`$share/<group>/...`) so several hubs split the agents between them; the broker must
 * support shared subscriptions (Mosquitto ≥ 1.6, EMQX; not the embedded broker).
 */
export function hubFilter (opts: { prefix?: string, shareGroup?: string } = {}): string {
  const filter = `${checkPrefix(opts.prefix ?? DEFAULT_PREFIX)}/+/up`
  if (opts.shareGroup === undefined) return filter
  if (typeof opts.shareGroup !== 'string' || !SHARE_GROUP_SHAPE.test(opts.shareGroup)) {
    throw new TypeError(`"shareGroup" expected 1-64 of [A-Za-z0-9_-], got ${describe(opts.shareGroup)}`)
  }
  return `$share/${opts.shareGroup}/${filter}`
}

/**
 * Reads a topic that arrived from the broker (untrusted: any client may publish anything it is allowed
 * to). Returns a verdict, never throws for bad input; only a malformed `prefix` argument throws.
 */
export function parseTopic (topic: unknown, prefix: string = DEFAULT_PREFIX): ParsedTopic {
  const root = checkPrefix(prefix) + '/'
  if (typeof topic !== 'string') return { ok: false, reason: 'topic is not a string' }
  if (!topic.startsWith(root)) return { ok: false, reason: `topic is not under ${root}` }
  const rest = topic.slice(root.length).split('/')
  if (rest.length !== 2) return { ok: false, reason: `expected <agent_id>/<channel> after the prefix, got ${rest.length} levels` }
  const [agentId, channel] = rest as [string, string]
  if (!AGENT_ID_SHAPE.test(agentId)) return { ok: false, reason: `agent_id level is not Base58, 32 chars: ${JSON.stringify(agentId.slice(0, 64))}` }
  if (!isChannel(channel)) return { ok: false, reason: `unknown channel ${JSON.stringify(String(channel).slice(0, 64))}` }
  return { ok: true, agentId, channel }
}

function isChannel (value: unknown): value is Channel {
  return (CHANNELS as readonly unknown[]).includes(value)
}

function describe (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? value.slice(0, 64) + '…' : value)
  return value === null ? 'null' : typeof value
}
