// TimeStampReq (RFC 3161 §2.4.1) with a random 64-bit nonce, which the reference never sends
// (tsa.md §3, gap 5): without it a captured reply for the same imprint could be replayed. Pure.
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import { SHA256_OID, arrayBuffer } from './asn1.js'

export interface TimestampRequest {
  der: Uint8Array
  nonce: bigint
}

/** `randomBytes` is injectable (tests, the browser); 8 bytes, the top bit cleared so the INTEGER stays positive. */
export function buildTimestampRequest (imprint: Uint8Array, randomBytes: (n: number) => Uint8Array, opts: { policy?: string } = {}): TimestampRequest {
  if (!(imprint instanceof Uint8Array) || imprint.length !== 32) throw new RangeError(`"imprint" expected 32 bytes (SHA-256), got ${imprint instanceof Uint8Array ? imprint.length : typeof imprint}`)
  const r = randomBytes(8).slice()
  r[0] = (r[0]! & 0x7f) | 0x01 // positive, and never a short INTEGER that a TSA might re-encode
  let nonce = 0n
  for (const b of r) nonce = (nonce << 8n) | BigInt(b)
  const req = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA256_OID, algorithmParams: new asn1js.Null() }),
      hashedMessage: new asn1js.OctetString({ valueHex: arrayBuffer(imprint) })
    }),
    nonce: new asn1js.Integer({ valueHex: arrayBuffer(r) }),
    certReq: true,
    ...(opts.policy ? { reqPolicy: opts.policy } : {})
  })
  return { der: new Uint8Array(req.toSchema().toBER()), nonce }
}
