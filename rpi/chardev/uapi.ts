// The Linux GPIO character-device uAPI v2 (<linux/gpio.h>, kernel 5.10+), as bytes: struct layouts,
// ioctl numbers and flag bits, and pure pack/unpack functions. Nothing here does I/O; the native addon
// (rpi/native/gpiochip.c) only passes these buffers to ioctl(2). The offsets are written out rather than
// computed so test/rpi-chardev-uapi.test.ts can compare every one with offsetof() from the real header,
// and feed packed bytes to a C program that reads them back through the kernel's own struct definitions.
//
// Every __aligned_u64 is 8-byte aligned on all ABIs, so these layouts are the same on arm (32-bit Pi OS),
// arm64 and x86_64, and no compat ioctl translation happens. Fields are little-endian, as on every Pi OS. The _IOC encoding below is the generic one
// (arm, arm64, x86, riscv); mips, powerpc and sparc encode directions differently and are not supported.

export const GPIO_MAX_NAME_SIZE = 32
export const GPIO_V2_LINES_MAX = 64
export const GPIO_V2_LINE_NUM_ATTRS_MAX = 10

/** Byte offsets and sizes, one entry per struct; the test checks each against offsetof/sizeof. */
export const LAYOUT = {
  gpiochip_info: { size: 68, name: 0, label: 32, lines: 64 },
  gpio_v2_line_attribute: { size: 16, id: 0, padding: 4, flags: 8, values: 8, debounce_period_us: 8 },
  gpio_v2_line_config_attribute: { size: 24, attr: 0, mask: 16 },
  gpio_v2_line_config: { size: 272, flags: 0, num_attrs: 8, padding: 12, attrs: 32 },
  gpio_v2_line_request: { size: 592, offsets: 0, consumer: 256, config: 288, num_lines: 560, event_buffer_size: 564, padding: 568, fd: 588 },
  gpio_v2_line_info: { size: 256, name: 0, consumer: 32, offset: 64, num_attrs: 68, flags: 72, attrs: 80, padding: 240 },
  gpio_v2_line_values: { size: 16, bits: 0, mask: 8 },
  gpio_v2_line_event: { size: 48, timestamp_ns: 0, id: 8, offset: 12, seqno: 16, line_seqno: 20, padding: 24 }
} as const

export const LineFlag = {
  USED: 1n << 0n,
  ACTIVE_LOW: 1n << 1n,
  INPUT: 1n << 2n,
  OUTPUT: 1n << 3n,
  EDGE_RISING: 1n << 4n,
  EDGE_FALLING: 1n << 5n,
  OPEN_DRAIN: 1n << 6n,
  OPEN_SOURCE: 1n << 7n,
  BIAS_PULL_UP: 1n << 8n,
  BIAS_PULL_DOWN: 1n << 9n,
  BIAS_DISABLED: 1n << 10n,
  EVENT_CLOCK_REALTIME: 1n << 11n,
  EVENT_CLOCK_HTE: 1n << 12n
} as const

export const AttrId = { FLAGS: 1, OUTPUT_VALUES: 2, DEBOUNCE: 3 } as const
export const EventId = { RISING_EDGE: 1, FALLING_EDGE: 2 } as const

const IOC_WRITE = 1
const IOC_READ = 2
function ioc (dir: number, nr: number, size: number): number { return ((dir << 30) | (size << 16) | (0xB4 << 8) | nr) >>> 0 }

export const Ioctl = {
  GPIO_GET_CHIPINFO_IOCTL: ioc(IOC_READ, 0x01, LAYOUT.gpiochip_info.size),
  GPIO_V2_GET_LINEINFO_IOCTL: ioc(IOC_READ | IOC_WRITE, 0x05, LAYOUT.gpio_v2_line_info.size),
  GPIO_V2_GET_LINE_IOCTL: ioc(IOC_READ | IOC_WRITE, 0x07, LAYOUT.gpio_v2_line_request.size),
  GPIO_V2_LINE_SET_CONFIG_IOCTL: ioc(IOC_READ | IOC_WRITE, 0x0D, LAYOUT.gpio_v2_line_config.size),
  GPIO_V2_LINE_GET_VALUES_IOCTL: ioc(IOC_READ | IOC_WRITE, 0x0E, LAYOUT.gpio_v2_line_values.size),
  GPIO_V2_LINE_SET_VALUES_IOCTL: ioc(IOC_READ | IOC_WRITE, 0x0F, LAYOUT.gpio_v2_line_values.size)
} as const

/** One configuration attribute: it applies to the lines whose bit is set in `mask` (bit i = offsets[i]). */
export type LineAttribute =
  | { id: typeof AttrId.FLAGS, flags: bigint, mask: bigint }
  | { id: typeof AttrId.OUTPUT_VALUES, values: bigint, mask: bigint }
  | { id: typeof AttrId.DEBOUNCE, debounceUs: number, mask: bigint }

export interface LineConfig {
  /** Default flags for every requested line. */
  flags: bigint
  attrs: LineAttribute[]
}

export interface LineRequest {
  offsets: number[]
  consumer: string
  config: LineConfig
  /** Kernel event queue length; 0 lets the kernel choose (16 per line). */
  eventBufferSize?: number
}

export interface ChipInfo { name: string, label: string, lines: number }
export interface LineInfo { name: string, consumer: string, offset: number, flags: bigint, debounceUs: number | undefined, outputValues: bigint | undefined }
export interface LineEvent {
  /** CLOCK_MONOTONIC (default) or CLOCK_REALTIME ns, as the kernel stamped the edge in its interrupt handler. */
  timestampNs: bigint
  id: number
  offset: number
  /** Per-request and per-line sequence numbers: a gap means the kernel's queue overflowed. */
  seqno: number
  lineSeqno: number
}

function view (buf: Uint8Array): DataView { return new DataView(buf.buffer, buf.byteOffset, buf.byteLength) }

function writeName (buf: Uint8Array, at: number, text: string, field: string): void {
  const bytes = new TextEncoder().encode(text)
  // One byte stays NUL: the kernel copies the string with strscpy-like semantics but expects termination.
  if (bytes.length >= GPIO_MAX_NAME_SIZE) throw new RangeError(`"${field}" expected at most ${GPIO_MAX_NAME_SIZE - 1} bytes, got ${bytes.length}`)
  buf.set(bytes, at)
}

function readName (buf: Uint8Array, at: number): string {
  const raw = buf.subarray(at, at + GPIO_MAX_NAME_SIZE)
  const end = raw.indexOf(0)
  return new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end))
}

function packConfigInto (buf: Uint8Array, at: number, cfg: LineConfig): void {
  const L = LAYOUT.gpio_v2_line_config
  const A = LAYOUT.gpio_v2_line_config_attribute
  const B = LAYOUT.gpio_v2_line_attribute
  if (cfg.attrs.length > GPIO_V2_LINE_NUM_ATTRS_MAX) throw new RangeError(`"config.attrs" expected at most ${GPIO_V2_LINE_NUM_ATTRS_MAX} attributes, got ${cfg.attrs.length}`)
  const v = view(buf)
  v.setBigUint64(at + L.flags, cfg.flags, true)
  v.setUint32(at + L.num_attrs, cfg.attrs.length, true)
  cfg.attrs.forEach((attr, i) => {
    const base = at + L.attrs + i * A.size
    v.setUint32(base + A.attr + B.id, attr.id, true)
    if (attr.id === AttrId.FLAGS) v.setBigUint64(base + A.attr + B.flags, attr.flags, true)
    else if (attr.id === AttrId.OUTPUT_VALUES) v.setBigUint64(base + A.attr + B.values, attr.values, true)
    else v.setUint32(base + A.attr + B.debounce_period_us, attr.debounceUs, true)
    v.setBigUint64(base + A.mask, attr.mask, true)
  })
}

/** struct gpio_v2_line_config, for GPIO_V2_LINE_SET_CONFIG_IOCTL. */
export function packLineConfig (cfg: LineConfig): Uint8Array {
  const buf = new Uint8Array(LAYOUT.gpio_v2_line_config.size)
  packConfigInto(buf, 0, cfg)
  return buf
}

/** struct gpio_v2_line_request, for GPIO_V2_GET_LINE_IOCTL (on the chip fd); the kernel fills in `fd`. */
export function packLineRequest (req: LineRequest): Uint8Array {
  const L = LAYOUT.gpio_v2_line_request
  if (req.offsets.length < 1 || req.offsets.length > GPIO_V2_LINES_MAX) throw new RangeError(`"offsets" expected 1..${GPIO_V2_LINES_MAX} lines, got ${req.offsets.length}`)
  const buf = new Uint8Array(L.size)
  const v = view(buf)
  req.offsets.forEach((o, i) => {
    if (!Number.isInteger(o) || o < 0 || o > 0xffffffff) throw new RangeError(`"offsets[${i}]" expected a line offset, got ${String(o)}`)
    v.setUint32(L.offsets + i * 4, o, true)
  })
  writeName(buf, L.consumer, req.consumer, 'consumer')
  packConfigInto(buf, L.config, req.config)
  v.setUint32(L.num_lines, req.offsets.length, true)
  v.setUint32(L.event_buffer_size, req.eventBufferSize ?? 0, true)
  v.setInt32(L.fd, -1, true)
  return buf
}

export function requestFd (buf: Uint8Array): number { return view(buf).getInt32(LAYOUT.gpio_v2_line_request.fd, true) }

export function unpackChipInfo (buf: Uint8Array): ChipInfo {
  const L = LAYOUT.gpiochip_info
  return { name: readName(buf, L.name), label: readName(buf, L.label), lines: view(buf).getUint32(L.lines, true) }
}

/** An empty gpio_v2_line_info asking about `offset` (the kernel requires the padding to be zero). */
export function packLineInfoQuery (offset: number): Uint8Array {
  const buf = new Uint8Array(LAYOUT.gpio_v2_line_info.size)
  view(buf).setUint32(LAYOUT.gpio_v2_line_info.offset, offset, true)
  return buf
}

export function unpackLineInfo (buf: Uint8Array): LineInfo {
  const L = LAYOUT.gpio_v2_line_info
  const B = LAYOUT.gpio_v2_line_attribute
  const v = view(buf)
  let debounceUs: number | undefined
  let outputValues: bigint | undefined
  const n = Math.min(v.getUint32(L.num_attrs, true), GPIO_V2_LINE_NUM_ATTRS_MAX)
  for (let i = 0; i < n; i++) {
    const at = L.attrs + i * B.size
    const id = v.getUint32(at + B.id, true)
    if (id === AttrId.DEBOUNCE) debounceUs = v.getUint32(at + B.debounce_period_us, true)
    else if (id === AttrId.OUTPUT_VALUES) outputValues = v.getBigUint64(at + B.values, true)
  }
  return { name: readName(buf, L.name), consumer: readName(buf, L.consumer), offset: v.getUint32(L.offset, true), flags: v.getBigUint64(L.flags, true), debounceUs, outputValues }
}

export function packLineValues (bits: bigint, mask: bigint): Uint8Array {
  const buf = new Uint8Array(LAYOUT.gpio_v2_line_values.size)
  const v = view(buf)
  v.setBigUint64(LAYOUT.gpio_v2_line_values.bits, bits, true)
  v.setBigUint64(LAYOUT.gpio_v2_line_values.mask, mask, true)
  return buf
}

export function unpackLineValues (buf: Uint8Array): bigint { return view(buf).getBigUint64(LAYOUT.gpio_v2_line_values.bits, true) }

/** Every whole gpio_v2_line_event in `buf` (what one read(2) on the request fd returned). */
export function unpackLineEvents (buf: Uint8Array): LineEvent[] {
  const L = LAYOUT.gpio_v2_line_event
  const v = view(buf)
  const out: LineEvent[] = []
  for (let at = 0; at + L.size <= buf.byteLength; at += L.size) {
    out.push({
      timestampNs: v.getBigUint64(at + L.timestamp_ns, true),
      id: v.getUint32(at + L.id, true),
      offset: v.getUint32(at + L.offset, true),
      seqno: v.getUint32(at + L.seqno, true),
      lineSeqno: v.getUint32(at + L.line_seqno, true)
    })
  }
  return out
}
