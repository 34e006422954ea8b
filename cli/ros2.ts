// `pcp ros2 …`: the auditor's tools for ROS 2 chains. None of them needs ROS 2 or rclnodejs.
//   pcp ros2 hash [file]                 msg_hash of recorded message(s), JSON or YAML (ros2 topic echo)
//   pcp ros2 prove --hashes f --index i  inclusion proof of one message in a topic_digest window
//   pcp ros2 verify-inclusion …          check such a proof against the digest's merkle_root
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { parseAllDocuments } from 'yaml'
import { parseJson, stringifyJson } from '../runtime/index.js'
import { messageHash, messageCanonicalText, wireHash, MSG_HASH_RECIPE, WIRE_HASH_RECIPE } from '../ros2/msg-hash.js'
import { merkleRoot, proveInclusion, verifyInclusion, type InclusionProof } from '../ros2/merkle.js'
import { registerRos2BagCommands } from './ros2-bag.js'
import { printJson } from './common.js'

/** Unusable input: one line on stderr, exit code 2 (CLI convention). */
class UsageError extends Error {}

function readInput (file: string | undefined): Buffer {
  try {
    return readFileSync(file === undefined || file === '-' ? 0 : file)
  } catch (err) {
    throw new UsageError(`cannot read ${file ?? 'stdin'}: ${(err as Error).message}`)
  }
}

/** Messages in the input: one JSON value (or an array of them with --many), or YAML documents. */
function parseMessages (text: string, format: string, many: boolean): unknown[] {
  if (format === 'yaml') {
    // intAsBigInt keeps int64 fields exact; the hash treats 5n and 5 alike.
    const docs = parseAllDocuments(text, { intAsBigInt: true })
    const list = Array.isArray(docs) ? docs : [docs]
    const out: unknown[] = []
    for (const d of list) {
      if (d.errors.length) throw new UsageError(`input is not valid YAML: ${d.errors[0]!.message.split('\n')[0]}`)
      const v = d.toJS()
      if (v !== null && v !== undefined) out.push(v)
    }
    return out
  }
  let value: unknown
  try { value = parseJson(text) } catch (err) { throw new UsageError((err as Error).message) }
  if (many) {
    if (!Array.isArray(value)) throw new UsageError('--many expects a JSON array of messages')
    return value
  }
  return [value]
}

function fail (err: unknown): never {
  const message = (err as Error)?.message ?? String(err)
  console.error(`pcp ros2: ${message}`)
  process.exit(err instanceof UsageError || err instanceof TypeError || err instanceof RangeError ? 2 : 1)
}

export function registerRos2Commands (program: Command): void {
  const ros2 = program.command('ros2').description('ROS 2 bridge tools: recompute message hashes, prove and check window inclusion, record and verify bags')
  registerRos2BagCommands(ros2)

  ros2.command('hash')
    .argument('[file]', 'recorded message: JSON, or YAML as printed by `ros2 topic echo --full-length` ("-" or none: stdin)')
    .description(`print the msg_hash (${MSG_HASH_RECIPE}) of recorded message(s), as topic_publish / topic_received record it`)
    .option('--format <format>', 'json or yaml (default: from the file extension, else json)')
    .option('--many', 'JSON input is an array of messages: print one hash per line')
    .option('--raw', `the file is a serialized (CDR) message, e.g. from a bag: hash it under ${WIRE_HASH_RECIPE}, as topic events do`)
    .option('--canonical', 'also print the canonical text that is hashed (to diff against your own)')
    .option('--json', 'print JSON')
    .action((file: string | undefined, opts: { format?: string, many?: boolean, raw?: boolean, canonical?: boolean, json?: boolean }) => {
      try {
        const bytes = readInput(file)
        let rows: Array<{ msg_hash: string, canonical?: string }>
        if (opts.raw) {
          rows = [{ msg_hash: wireHash(new Uint8Array(bytes)) }]
        } else {
          const format = opts.format ?? (file && /\.ya?ml$/i.test(file) ? 'yaml' : 'json')
          if (format !== 'json' && format !== 'yaml') throw new UsageError(`--format expected json or yaml, got ${format}`)
          const messages = parseMessages(bytes.toString('utf8'), format, opts.many === true)
          if (messages.length === 0) throw new UsageError('no message in the input')
          rows = messages.map((m, i) => {
            try {
              return { msg_hash: messageHash(m), ...(opts.canonical ? { canonical: messageCanonicalText(m) } : {}) }
            } catch (err) {
              throw new UsageError(`message ${i}: ${(err as Error).message}`)
            }
          })
        }
        if (opts.json) {
          console.log(stringifyJson({ recipe: opts.raw ? WIRE_HASH_RECIPE : MSG_HASH_RECIPE, messages: rows }, 2))
        } else {
          for (const r of rows) {
            console.log(r.msg_hash)
            if (r.canonical !== undefined) console.log(r.canonical)
          }
        }
      } catch (err) { fail(err) }
    })

  ros2.command('prove')
    .description('build the inclusion proof of one message in a window digest, from the window\'s message hashes')
    .requiredOption('--hashes <file>', 'the window\'s msg_hash values in order, one per line (as kept by onDigest)')
    .requiredOption('--index <n>', 'position of the message in the window, from 0')
    .option('--json', 'print JSON (default; the proof is JSON)')
    .action((opts: { hashes: string, index: string }) => {
      try {
        const hashes = readInput(opts.hashes).toString('utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
        const index = Number(opts.index)
        if (!Number.isSafeInteger(index)) throw new UsageError(`--index expected an integer, got ${opts.index}`)
        const proof = proveInclusion(hashes, index)
        console.log(stringifyJson({ msg_hash: hashes[index]!, merkle_root: merkleRoot(hashes), proof: { ...proof } }, 2))
      } catch (err) { fail(err) }
    })

  ros2.command('verify-inclusion')
    .description('check that a message hash is in a topic_digest window (exit 0 included, 1 not included)')
    .requiredOption('--msg-hash <hex>', 'the message\'s msg_hash (see `pcp ros2 hash`)')
    .requiredOption('--root <hex>', 'merkle_root of the signed topic_digest event')
    .requiredOption('--proof <file>', 'proof JSON: { index, size, path } or the output of `pcp ros2 prove`')
    .option('--count <n>', 'count of the signed topic_digest event: the window size to check against (recommended: the proof\'s own size is not signed)')
    .option('--json', 'print JSON')
    .action((opts: { msgHash: string, root: string, proof: string, count?: string, json?: boolean }) => {
      try {
        let doc: unknown
        try { doc = JSON.parse(readInput(opts.proof).toString('utf8')) } catch (err) {
          if (err instanceof UsageError) throw err
          throw new UsageError(`${opts.proof} is not valid JSON`)
        }
        let proof = ((doc as { proof?: unknown })?.proof ?? doc) as InclusionProof
        if (opts.count !== undefined) {
          const size = Number(opts.count)
          if (!Number.isSafeInteger(size) || size < 1) throw new UsageError(`--count expected a positive integer, got ${opts.count}`)
          proof = { ...proof, size }
        }
        const ok = verifyInclusion(opts.msgHash.toLowerCase(), proof, opts.root.toLowerCase())
        if (opts.json) printJson({ included: ok, index: proof?.index ?? null, size: proof?.size ?? null })
        else console.log(ok ? `included: message ${proof.index} of ${proof.size}` : 'NOT included: the proof does not lead to this root')
        process.exitCode = ok ? 0 : 1
      } catch (err) { fail(err) }
    })
}
