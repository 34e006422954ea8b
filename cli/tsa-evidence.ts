// `pcp verify --tsa-fetch --tsa-save-evidence DIR`: the CRLs and OCSP responses a fetching run used
// for its verdicts, written to DIR as DER so that `--tsa-crl DIR --tsa-ocsp DIR` gives the same
// verdicts offline (README "Trusted time", the evidence workflow). The names say what each file is:
// `<sha256(issuer Name), 16 hex>-<thisUpdate>.crl` and `<certificate serial, hex>-<producedAt>.ocsp`.
// Collected during the run (RevocationSources.onFetched) and written at its end, each file atomically.
import { createHash } from 'node:crypto'
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureDir, fileWriteError, writeFileAtomic } from '../runtime/fsutil.js'
import type { FetchedEvidence } from '../runtime/tsa/revocation-check.js'

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
/** 2026-12-04T19:34:36.000Z → 20261204T193436Z: sortable, and no ':' (not allowed in Windows names). */
const stamp = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '')

export class EvidenceSaver {
  readonly dir: string
  /** By content: anchors by the same TSA reuse one fetched answer, which is saved once. */
  readonly #found = new Map<string, FetchedEvidence>()
  constructor (dir: string) { this.dir = dir }

  readonly record = (e: FetchedEvidence): void => { this.#found.set(sha256(e.der), e) }

  /** Writes what was recorded; returns the file names in DIR, sorted. A name already holding other bytes gets the content's hash appended: no evidence is overwritten. */
  async save (): Promise<string[]> {
    try { await ensureDir(this.dir) } catch (err) { throw fileWriteError(this.dir, err) }
    const names: string[] = []
    for (const [hash, e] of this.#found) {
      const base = e.kind === 'crl' ? `${sha256(e.issuer).slice(0, 16)}-${stamp(e.thisUpdate)}` : `${e.serial.toLowerCase()}-${stamp(e.producedAt)}`
      let name = `${base}.${e.kind}`
      const held = await readFile(join(this.dir, name)).catch(() => undefined)
      if (held !== undefined && sha256(held) !== hash) name = `${base}-${hash.slice(0, 16)}.${e.kind}`
      if (held === undefined || sha256(held) !== hash) await writeFileAtomic(join(this.dir, name), e.der, 0o644)
      names.push(name)
    }
    return names.sort()
  }
}

/** What `--tsa-crl DIR --tsa-ocsp DIR` reads, without fetching: the offline run the saved evidence is for. */
export async function offlineSources (dir: string): Promise<{ crls: Uint8Array[], ocsp: Uint8Array[] }> {
  const { readCrlFile, readOcspFile } = await import('../runtime/tsa/trust-file.js')
  const crls = (await Promise.all((await expandEvidencePaths([dir], 'crl')).map((f) => readCrlFile(f)))).flat()
  const ocsp = await Promise.all((await expandEvidencePaths([dir], 'ocsp')).map((f) => readOcspFile(f)))
  return { crls, ocsp }
}

/** `--tsa-crl`/`--tsa-ocsp` paths with each directory replaced by its `*.<ext>` files (sorted); files stay as given. */
export async function expandEvidencePaths (paths: string[], ext: 'crl' | 'ocsp'): Promise<string[]> {
  const out: string[] = []
  for (const p of paths) {
    const isDir = await stat(p).then((s) => s.isDirectory(), () => false)
    if (!isDir) { out.push(p); continue }
    out.push(...(await readdir(p)).filter((f) => f.endsWith(`.${ext}`) && !f.startsWith('.')).sort().map((f) => join(p, f)))
  }
  return out
}
