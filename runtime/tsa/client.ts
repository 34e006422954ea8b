// The TSA over HTTP (RFC 3161 §3.4): POST application/timestamp-query, a 200 with the DER reply.
// Redirects are not followed (a redirect would turn the POST into a body-less GET, tsa.md §3). The
// reply is returned as bytes: whether it is a valid token is verify-token.ts's verdict, not ours.
import { TsaError } from './errors.js'

export interface TsaClientOptions {
  url: string
  /** Milliseconds; default 10 s like the reference. */
  timeoutMs?: number
  fetch?: typeof globalThis.fetch
}

/** Largest reply accepted: a token with a few certificates is 1-10 KB. */
const MAX_REPLY_BYTES = 256 * 1024

export async function requestTimestamp (requestDer: Uint8Array, opts: TsaClientOptions): Promise<Uint8Array> {
  if (typeof opts.url !== 'string' || !/^https?:\/\//.test(opts.url)) throw new TypeError(`"url" expected an http(s) URL, got ${String(opts.url)}`)
  const doFetch = opts.fetch ?? globalThis.fetch
  let res: Response
  try {
    res = await doFetch(opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body: requestDer,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000)
    })
  } catch (err) {
    throw new TsaError('TSA_UNAVAILABLE', `TSA ${opts.url} unreachable: ${(err as Error).message}`, { field: 'url', actual: opts.url, cause: err })
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {})
    throw new TsaError('TSA_HTTP_ERROR', `TSA ${opts.url} answered HTTP ${res.status}`, { field: 'status', actual: res.status, expected: 200 })
  }
  let body: Uint8Array
  try { body = new Uint8Array(await res.arrayBuffer()) } catch (err) {
    throw new TsaError('TSA_UNAVAILABLE', `TSA ${opts.url}: the reply was cut: ${(err as Error).message}`, { field: 'url', actual: opts.url, cause: err })
  }
  if (body.length > MAX_REPLY_BYTES) throw new TsaError('TSA_HTTP_ERROR', `TSA ${opts.url}: a ${body.length}-byte reply exceeds ${MAX_REPLY_BYTES}`, { field: 'body', actual: body.length, expected: MAX_REPLY_BYTES })
  return body
}
