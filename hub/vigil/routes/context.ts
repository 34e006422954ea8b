// What every Vigil route shares: the handles it reads, and the error shape it answers with.
import { PcpError } from '../../../runtime/index.js'
import type { ChainView } from '../../chain-view.js'
import type { MetricsRegistry } from '../../metrics.js'
import type { VigilEngine } from '../engine.js'

export interface VigilContext {
  vigil: VigilEngine
  chain: ChainView
  metrics: MetricsRegistry
  /** Unix seconds. */
  now: () => number
}

/** Error body of every route: { error: <stable code>, code: <HTTP status>, message }. */
export function httpError (status: number, code: string, message: string): PcpError & { statusCode: number } {
  const err = new PcpError(code, message) as PcpError & { statusCode: number }
  err.statusCode = status
  return err
}
