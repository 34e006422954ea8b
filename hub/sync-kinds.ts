// The sync protocol's own envelope kinds on an agent's `up` topic (sync/wire.ts): `identity` (first contact,
// through the registry), `head?` (the handshake: the head a device resumes from) and `events` (a batch,
// through ingest). hub/up-router.ts routes every other kind to the handlers registered with handle().
// Untrusted input: a refusal is counted under its reason (ctx.reject) and answered only with a valid corr.
import type { Logger } from '../sync/log.js'
import { PcpError, ErrorCodes } from '../runtime/index.js'
import { eventsShapeProblem, isCorr, recordCosts, notAllowedNack, NACK_CODES, type AgentState } from '../sync/wire.js'
import type { OpenedHubStore } from './store/open.js'
import type { Registry } from './registry.js'
import type { Ingest } from './ingest.js'

export interface SyncKindsContext {
  store: OpenedHubStore
  registry: Registry
  ingest: Ingest
  log: Logger
  /** Counts a refusal under its reason. */
  reject (reason: string): void
  /** Counts events a batch held that the hub already had (resends). */
  duplicates (n: number): void
}

/** The registry state; one that is not allowed is read again first: with several hubs on one store, it may have been approved (or registered) through another hub. */
async function stateNow (ctx: SyncKindsContext, agentId: string): Promise<AgentState> {
  if (ctx.registry.state(agentId) !== 'allowed' && ctx.store.refresh) await ctx.store.refresh(agentId).catch(() => {})
  return ctx.registry.state(agentId)
}

/** The answer to publish on the agent's `down` topic (null: none), or undefined when `kind` is not a sync kind. */
export async function syncKind (ctx: SyncKindsContext, agentId: string, topic: string, env: Record<string, unknown> & { kind: string }): Promise<object | null | undefined> {
  const corr = env.corr
  const nack = (code: string, message: string, retry: boolean): object | null => isCorr(corr) ? { v: 1, kind: 'nack', corr, code, message, head: null, retry } : null
  if (env.kind === 'identity' || env.kind === 'head?') {
    if (!isCorr(corr)) { ctx.reject('ENVELOPE_INVALID'); return null }
    if (env.kind === 'identity') {
      try {
        const known = ctx.store.agent(agentId)?.identity !== undefined
        const rec = await ctx.registry.onIdentity(agentId, env.identity, env.name)
        if (!known && rec.state === 'pending') ctx.log.info({ event: 'pending', agent: agentId, name: rec.name }, `new device ${rec.name} waits for approval: pcp hub approve ${agentId}`)
        else if (!known) ctx.log.info({ event: 'registered', agent: agentId, name: rec.name, state: rec.state }, `new device ${rec.name} registered as ${rec.state}`)
      } catch (err) {
        const code = err instanceof PcpError ? err.code : 'IDENTITY_INVALID'
        // The store could not register it (disk full): the device should come back, not give up.
        const retry = code === ErrorCodes.STORE_NO_SPACE || code === ErrorCodes.STORE_WRITE_FAILED
        ctx.log.warn({ event: 'refused', agent: agentId, code, reason: (err as Error).message }, `identity of ${agentId} refused: ${code}`)
        ctx.reject(code)
        return nack(retry ? NACK_CODES.HUB_BUSY : code, (err as Error).message, retry)
      }
    }
    const state = await stateNow(ctx, agentId)
    const head = state === 'allowed' ? await ctx.ingest.head(agentId) : null
    return { v: 1, kind: 'head', corr, state, head }
  }
  if (env.kind === 'events') {
    const shape = eventsShapeProblem(env)
    if (shape !== null) { ctx.reject('ENVELOPE_INVALID'); return nack('ENVELOPE_INVALID', shape, false) }
    const state = await stateNow(ctx, agentId)
    if (state !== 'allowed') {
      const { code, retry } = notAllowedNack(state)
      ctx.reject(code)
      return nack(code, `agent ${agentId} is ${state}`, retry)
    }
    const records = env.records as Uint8Array[]
    const costs = recordCosts(records)
    if (costs.refused) { ctx.reject(costs.refused); return null }
    const out = await ctx.ingest.submit(agentId, { from: env.from as number, ids: env.ids as string[], records, topic, ...(costs.overLimit ? { overLimit: costs.overLimit } : {}) })
    if ('hostile' in out) { ctx.reject(out.hostile); return null }
    if ('nack' in out && out.nack.code !== NACK_CODES.REJECTED) ctx.reject(out.nack.code)
    if ('ack' in out && out.ack.duplicates > 0) {
      ctx.duplicates(out.ack.duplicates)
    }
    return 'ack' in out ? { v: 1, kind: 'ack', corr, ...out.ack } : { v: 1, kind: 'nack', corr, ...out.nack }
  }
  return undefined
}
