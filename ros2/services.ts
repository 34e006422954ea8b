// Audited service clients and servers. Requests and responses are recorded as hashes; every call gets
// a per-endpoint call_id so its request and outcome events pair up, and the outcome event carries the
// duration. Events: client side service_call → service_response; server side service_request →
// service_reply. outcome is 'ok' | 'error' | 'timeout' | 'aborted'.
import { PcpError } from '../runtime/index.js'
import { elapsedMs, errorFields, hashOrNull, NodeAuditor, Ros2ErrorCodes, typeName, type Payload } from './auditor.js'
import type { ClientLike, Msg, ServiceHandler, ServiceResponseLike, TypeClassLike } from './rcl-api.js'

function outcomeOf (err: unknown): 'timeout' | 'aborted' | 'error' {
  const name = String((err as { name?: unknown })?.name ?? '')
  const message = String((err as { message?: unknown })?.message ?? '')
  if (/timeout/i.test(name) || /timed? ?out/i.test(message)) return 'timeout'
  if (name === 'AbortError') return 'aborted'
  return 'error'
}

/** Asks the gate (if any). Resolves when allowed; rejects with ROS2_BLOCKED after stamping the refusal. */
async function gateCall (a: NodeAuditor, ask: Payload): Promise<void> {
  if (a.gate === undefined) return
  let reason: string
  let extra: Payload = {}
  try {
    const d = await a.gate.check('service_call', ask, { role: a.role, node: a.node })
    if (d?.allowed === true) return
    reason = typeof d?.reason === 'string' ? d.reason : 'refused'
  } catch (err) {
    reason = 'gate_error' // fail closed: an unreachable gate must not mean "allowed" (gaps.md #43)
    extra = errorFields(err)
  }
  await a.stamp('service_call_blocked', { ...ask, reason, ...extra })
  throw new PcpError(Ros2ErrorCodes.ROS2_BLOCKED, `gate refused call to ${String(ask.service)}: ${reason}`, { field: String(ask.service) })
}

/** Replaces sendRequest / sendRequestAsync on this client instance. */
export function auditClient<C extends ClientLike> (a: NodeAuditor, client: C, typeClass: TypeClassLike, serviceName: string): C {
  const srvType = typeName(typeClass)
  // rclnodejs's client.serviceName is the resolved name (namespace and remapping applied): record that.
  const service = typeof client.serviceName === 'string' && client.serviceName ? client.serviceName : serviceName
  a.stamp('client_created', { service, srv_type: srvType })
  let calls = 0
  // rclnodejs's sendRequestAsync does not call sendRequest, but an implementation that does must not
  // produce every event twice.
  let inner = false
  const begin = (request: Msg): { ask: Payload, callId: number, t0: number } => {
    const callId = ++calls
    const ask: Payload = { service, srv_type: srvType, call_id: callId, request_hash: hashOrNull(a, request, 'service_call') }
    return { ask, callId, t0: a.clock.nowMs() }
  }
  const end = (callId: number, t0: number, response: Msg, err?: unknown): Promise<unknown> => {
    const fields: Payload = { service, call_id: callId, duration_ms: elapsedMs(a, t0) }
    if (err === undefined) Object.assign(fields, { outcome: 'ok', response_hash: hashOrNull(a, response, 'service_response') })
    else Object.assign(fields, { outcome: outcomeOf(err), ...errorFields(err) })
    return a.stamp('service_response', fields)
  }

  const sendRequestAsync = client.sendRequestAsync.bind(client)
  const sendRequest = client.sendRequest.bind(client)

  const auditedAsync = async (request: Msg, options?: Parameters<C['sendRequestAsync']>[1]): Promise<Msg> => {
    const { ask, callId, t0 } = begin(request)
    await gateCall(a, ask)
    const sent = a.stamp('service_call', ask)
    if (a.callbackOrder === 'after-stamp') await sent
    let response: Msg
    try {
      let pending: Promise<Msg>
      inner = true
      try { pending = sendRequestAsync(request, options) } finally { inner = false }
      response = await pending
    } catch (err) {
      await end(callId, t0, undefined, err)
      throw err
    }
    const done = end(callId, t0, response)
    if (a.callbackOrder === 'after-stamp') await done
    return response
  }

  const auditedCallback = (request: Msg, callback: (response: Msg) => void, options?: unknown): void => {
    if (inner) return sendRequest(request, callback, options)
    const { ask, callId, t0 } = begin(request)
    const go = (): void => {
      a.stamp('service_call', ask)
      sendRequest(request, (response: Msg) => {
        end(callId, t0, response)
        a.runCallback({ source: 'service_response', service, call_id: callId }, () => callback(response))
      }, options)
    }
    if (a.gate === undefined) { go(); return }
    gateCall(a, ask).then(go, (err) => a.report(err, 'service_call_blocked'))
  }

  Object.defineProperty(client, 'sendRequestAsync', { value: auditedAsync, configurable: true, writable: true })
  Object.defineProperty(client, 'sendRequest', { value: auditedCallback, configurable: true, writable: true })
  return client
}

export type AuditedServiceHandler = ServiceHandler & {
  /** Names the endpoint with the service's resolved name and stamps service_created. */
  attach (resolvedName?: string): void
}

/**
 * Wraps a service handler. service_request is queued before the handler runs; service_reply when the
 * response is sent, either through response.send() or (as rclnodejs allows) by returning it.
 * A throwing handler is stamped as service_reply with outcome 'error' and re-thrown to rclnodejs.
 * service_created is stamped on attach() (after rclnodejs created the service) or at the first request.
 */
export function auditServiceHandler (a: NodeAuditor, typeClass: TypeClassLike, serviceName: string, handler: ServiceHandler): AuditedServiceHandler {
  if (typeof handler !== 'function') throw new TypeError(`"callback" for service ${serviceName} expected a function, got ${typeof handler}`)
  const srvType = typeName(typeClass)
  let name: string | undefined
  const attach = (resolved?: string): string => {
    if (name !== undefined) return name
    name = typeof resolved === 'string' && resolved ? resolved : serviceName
    a.stamp('service_created', { service: name, srv_type: srvType })
    return name
  }
  let calls = 0
  const wrapped = (request: Msg, response: ServiceResponseLike): unknown => {
    const service = attach()
    const callId = ++calls
    const t0 = a.clock.nowMs()
    a.stamp('service_request', { service, srv_type: srvType, call_id: callId, request_hash: hashOrNull(a, request, 'service_request') })
    let replied = false
    const reply = (fields: Payload): void => {
      if (replied) return
      replied = true
      a.stamp('service_reply', { service, call_id: callId, duration_ms: elapsedMs(a, t0), ...fields })
    }
    const send = response.send.bind(response)
    Object.defineProperty(response, 'send', {
      value: (r: Msg): void => { send(r); reply({ outcome: 'ok', response_hash: hashOrNull(a, r, 'service_reply') }) },
      configurable: true,
      writable: true
    })
    const run = (): unknown => {
      let result: unknown
      try {
        result = (handler as (req: Msg, res: ServiceResponseLike) => unknown)(request, response)
      } catch (err) {
        reply({ outcome: 'error', ...errorFields(err) })
        throw err
      }
      return Promise.resolve(result).then((value) => {
        if (value !== undefined && value !== null) reply({ outcome: 'ok', response_hash: hashOrNull(a, value, 'service_reply') })
        return value
      }, (err) => {
        reply({ outcome: 'error', ...errorFields(err) })
        throw err
      })
    }
    return a.afterStamps(run)
  }
  return Object.assign(wrapped as ServiceHandler, { attach: (r?: string) => { attach(r) } })
}
