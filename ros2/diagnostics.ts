// What an audited node reports on /diagnostics (diagnostic_msgs/msg/DiagnosticArray, the topic
// rqt_robot_monitor, the diagnostic_aggregator and Foxglove read): whether its chain keeps up. One
// DiagnosticStatus per node, hardware_id the agent id, values as strings (KeyValue is string → string):
//   backlog            events stamped but not yet durable (the agent's head minus its stored head)
//   callbacks_waiting  received callbacks waiting for their stamp ('after-stamp' order)
//   last_stamp         when the newest durable event was stamped (ISO 8601), last_stamp_seq its seq
//   stamp_failures     stamps that failed since start (disk full, store error), last_error its code
// Level: ERROR when a stamp failed since the previous report, WARN while the backlog is at least
// WARN_BACKLOG, else OK. Pure: the node side (pcp-node.ts) gathers the snapshot and publishes.

export const DIAGNOSTICS_TOPIC = '/diagnostics'
export const WARN_BACKLOG = 1000

/** diagnostic_msgs/msg/DiagnosticStatus level constants. */
export const Level = { OK: 0, WARN: 1, ERROR: 2, STALE: 3 } as const

export interface DiagnosticsSnapshot {
  node: string
  agent: string
  agentId: string
  head: { seq: number } | null
  durable: { seq: number, timestamp: number } | null
  callbacksWaiting: number
  stamped: number
  failures: number
  /** failures at the previous report: a new failure since then makes the level ERROR */
  failuresBefore: number
  lastError?: string
  syncBacklog?: number
  rosTimeNs: bigint
}

export interface DiagnosticArrayMsg {
  header: { stamp: { sec: number, nanosec: number }, frame_id: string }
  status: Array<{ level: number, name: string, message: string, hardware_id: string, values: Array<{ key: string, value: string }> }>
}

export function diagnosticArray (s: DiagnosticsSnapshot): DiagnosticArrayMsg {
  const backlog = (s.head?.seq ?? -1) - (s.durable?.seq ?? -1)
  const level = s.failures > s.failuresBefore ? Level.ERROR : backlog >= WARN_BACKLOG ? Level.WARN : Level.OK
  const message = level === Level.ERROR
    ? `${s.failures - s.failuresBefore} stamp(s) failed: ${s.lastError ?? 'unknown error'}`
    : level === Level.WARN ? `${backlog} events not yet durable` : 'chain up to date'
  const values: Array<[string, string]> = [
    ['agent', s.agent],
    ['backlog', String(backlog)],
    ['callbacks_waiting', String(s.callbacksWaiting)],
    ['head_seq', String(s.head?.seq ?? -1)],
    ['last_stamp', s.durable ? new Date(s.durable.timestamp * 1000).toISOString() : ''],
    ['last_stamp_seq', String(s.durable?.seq ?? -1)],
    ['events_stamped', String(s.stamped)],
    ['stamp_failures', String(s.failures)],
    ['last_error', s.lastError ?? '']
  ]
  if (s.syncBacklog !== undefined) values.push(['sync_backlog', String(s.syncBacklog)])
  return {
    header: { stamp: { sec: Number(s.rosTimeNs / 1_000_000_000n), nanosec: Number(s.rosTimeNs % 1_000_000_000n) }, frame_id: '' },
    status: [{ level, name: `pcp: ${s.node}`, message, hardware_id: s.agentId, values: values.map(([key, value]) => ({ key, value })) }]
  }
}
