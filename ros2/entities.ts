// Which entity is which, so destroyPublisher / destroySubscription / destroyClient / destroyService /
// destroyTimer can be stamped (entity_destroyed { kind, name }) and the entity's open window emitted
// then, not at node shutdown.
import type { NodeAuditor } from './auditor.js'
import type { Sampler } from './policy.js'

interface EntityRecord { name: string, sampler?: Sampler }

const registry = new WeakMap<NodeAuditor, WeakMap<object, EntityRecord>>()

export function registerEntity (a: NodeAuditor, entity: unknown, name: string, sampler?: Sampler): void {
  if (entity === null || (typeof entity !== 'object' && typeof entity !== 'function')) return
  let m = registry.get(a)
  if (!m) { m = new WeakMap(); registry.set(a, m) }
  m.set(entity as object, { name, sampler })
}

export function auditDestroy (a: NodeAuditor | undefined, kind: string, entity: unknown): void {
  if (!a || entity === null || typeof entity !== 'object') return
  const m = registry.get(a)
  const r = m?.get(entity)
  if (!r) return
  m!.delete(entity)
  if (r.sampler) a.dropSampler(r.sampler)
  a.stamp('entity_destroyed', { kind, name: r.name })
}
