// The store's health as the hub reports it: a write error refuses events (retryable nacks) until the store
// reopens by itself, so it is logged once when it starts, counted per code, and shown as a gauge
// (pcp_hub_store_failing) that `pcp hub status` and /metrics read.
import type { Logger } from '../sync/log.js'
import type { OpenedHubStore } from './store/open.js'
import { HUB_METRICS, hubCounter, hubGauge, type MetricsRegistry } from './metrics.js'

/** A store write error refuses events (retryable nacks) until the store reopens by itself: say so. */
export function watchStoreHealth (store: OpenedHubStore, metrics: MetricsRegistry, log: Logger): void {
  const failing = hubGauge(metrics, HUB_METRICS.storeFailing)
  const errors = hubCounter(metrics, HUB_METRICS.storeWriteErrors)
  failing.set(undefined, store.failure ? 1 : 0)
  const atStart = store.failure
  if (atStart) log.error({ event: 'store_failing', code: atStart.code, file: atStart.file }, `hub store refuses writes until it has room: ${atStart.message}`)
  store.listen({
    failed: (err, first, during) => {
      if (during === 'write') errors.inc({ code: err.code })
      failing.set(undefined, 1)
      const fields = { event: first ? 'store_failing' : 'store_still_failing', code: err.code, file: err.file, needed: (err as { needed?: number }).needed }
      if (first) log.error(fields, `hub store refuses writes until it has reopened: ${err.message}`)
      else log.debug(fields, err.message)
    },
    recovered: (downMs) => {
      failing.set(undefined, 0)
      log.warn({ event: 'store_recovered', downMs }, `hub store reopened after ${downMs} ms; accepting events again`)
    }
  })
}
