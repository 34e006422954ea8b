// Which 32-byte strings we accept as an Ed25519 public key (issue 13 #8). RFC 8032 §5.1.7 verification
// does not reject a key of small order (one of the 8 torsion points): with such a key A and the
// signature R = identity, S = 0, the check [S]B = R + [k]A holds whenever [k]A is the identity, which for
// these points is a matter of k's low bits — so a chain "signed" by a key no one holds verifies, and a
// rotation to such a key lets anyone append. A non-canonical encoding (y >= p, or x = 0 with the sign
// bit set) names the same point as another string, so two agent_ids would share one key. Both are
// refused wherever a key enters — identity documents, rotation targets, A2A messages — and by both
// crypto backends' verify(), so the rule does not depend on which backend is installed. Pure JS
// (noble's point decoding, ~0.1 ms): it runs once per key, not per event.
import { Point } from '@noble/ed25519'

/** Null when `key` is a canonically encoded Ed25519 point of large order; otherwise why not. */
export function publicKeyProblem (key: Uint8Array): string | null {
  if (!(key instanceof Uint8Array) || key.length !== 32) return 'is not 32 bytes'
  let point: Point
  // zip215 = false: strict RFC 8032 decoding, which refuses the non-canonical encodings.
  try { point = Point.fromBytes(key, false) } catch { return 'is not the canonical encoding of a point on Ed25519' }
  if (point.isSmallOrder()) return 'is a point of small order, which anyone can "sign" for'
  return null
}
