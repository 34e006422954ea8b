// MCAP bags as rosbag2 writes them (its default storage since Iron): profile "ros2", one schema per
// message type in `ros2msg` encoding (schema.ts), one channel per topic with message encoding "cdr",
// each message's bytes exactly as they came off the wire. `ros2 bag info BAG.mcap` and Foxglove open
// these files. Our additions are MCAP metadata records (which both ignore): "pcp.bag" (the bag id the
// chain refers to) and one "pcp.window" per closed window (its message hashes and log times, which
// the signed bag_window event authenticates by its merkle_root and log_times_hash).
import { open, type FileHandle } from 'node:fs/promises'
import { McapStreamReader, McapWriter, type TypedMcapRecord } from '@mcap/core'

/** IWritable over a file: @mcap/core asks for the position it has written to. */
class FileWritable {
  private pos = 0n
  constructor (private readonly fh: FileHandle) {}
  async write (buffer: Uint8Array): Promise<void> {
    await this.fh.write(buffer)
    this.pos += BigInt(buffer.byteLength)
  }

  position (): bigint { return this.pos }
}

export interface BagChannel { topic: string, type: string, schema: string, qos?: string }

export class BagWriter {
  private readonly writer: McapWriter
  private readonly fh: FileHandle
  private readonly channels = new Map<string, number>()
  private readonly schemas = new Map<string, number>()
  /** bytes of message data written (what the throughput bench counts) */
  bytes = 0

  private constructor (fh: FileHandle) {
    this.fh = fh
    // Chunks off: a bag is read back message by message by the verifier, and an appended record is on
    // disk as soon as its write returns (a crash loses at most the summary, which readers can rebuild).
    this.writer = new McapWriter({ writable: new FileWritable(fh), useChunks: false, useStatistics: true, useSummaryOffsets: true })
  }

  static async create (file: string, metadata: Record<string, string>): Promise<BagWriter> {
    const fh = await open(file, 'wx')
    const w = new BagWriter(fh)
    await w.writer.start({ profile: 'ros2', library: 'pcp-edge' })
    await w.writer.addMetadata({ name: 'pcp.bag', metadata: new Map(Object.entries(metadata)) })
    return w
  }

  async channel (c: BagChannel): Promise<number> {
    const known = this.channels.get(c.topic)
    if (known !== undefined) return known
    let schemaId = this.schemas.get(c.type)
    if (schemaId === undefined) {
      schemaId = await this.writer.registerSchema({ name: c.type, encoding: 'ros2msg', data: new TextEncoder().encode(c.schema) })
      this.schemas.set(c.type, schemaId)
    }
    // rosbag2 puts the offered QoS profiles (YAML) in the channel metadata
    const id = await this.writer.registerChannel({ topic: c.topic, messageEncoding: 'cdr', schemaId, metadata: new Map([['offered_qos_profiles', c.qos ?? '']]) })
    this.channels.set(c.topic, id)
    return id
  }

  async message (channelId: number, sequence: number, logTime: bigint, publishTime: bigint, data: Uint8Array): Promise<void> {
    await this.writer.addMessage({ channelId, sequence, logTime, publishTime, data })
    this.bytes += data.byteLength
  }

  async metadata (name: string, metadata: Record<string, string>): Promise<void> {
    await this.writer.addMetadata({ name, metadata: new Map(Object.entries(metadata)) })
  }

  async close (): Promise<void> {
    await this.writer.end()
    await this.fh.sync()
    await this.fh.close()
  }
}

export interface BagMessage { topic: string, type: string, sequence: number, logTime: bigint, publishTime: bigint, data: Uint8Array, index: number }
export interface BagContents {
  messages: BagMessage[]
  metadata: Array<{ name: string, metadata: Map<string, string> }>
  profile: string | null
  /** set when the file ends early or a record does not parse: what was read up to there is kept */
  truncated: string | null
}

/**
 * Every record of an MCAP file, in file order. CRCs are not what proves a bag (anyone who edits it can
 * recompute them), so they are not required to match; a damaged tail is reported, not thrown.
 */
export function readBag (bytes: Uint8Array): BagContents {
  const reader = new McapStreamReader({ validateCrcs: false })
  reader.append(bytes)
  const channels = new Map<number, { topic: string, schemaId: number }>()
  const schemas = new Map<number, string>()
  const out: BagContents = { messages: [], metadata: [], profile: null, truncated: null }
  for (;;) {
    let rec: TypedMcapRecord | undefined
    try { rec = reader.nextRecord() } catch (err) { out.truncated = (err as Error).message; break }
    if (rec === undefined) { if (!reader.done()) out.truncated = 'the file ends inside a record'; break }
    switch (rec.type) {
      case 'Header': out.profile = rec.profile; break
      case 'Schema': schemas.set(rec.id, rec.name); break
      case 'Channel': channels.set(rec.id, { topic: rec.topic, schemaId: rec.schemaId }); break
      case 'Message': {
        const ch = channels.get(rec.channelId)
        out.messages.push({
          topic: ch?.topic ?? `?channel ${rec.channelId}`, type: ch ? schemas.get(ch.schemaId) ?? '?' : '?',
          sequence: rec.sequence, logTime: rec.logTime, publishTime: rec.publishTime, data: rec.data, index: out.messages.length
        })
        break
      }
      case 'Metadata': out.metadata.push({ name: rec.name, metadata: rec.metadata }); break
      default: break
    }
  }
  return out
}
