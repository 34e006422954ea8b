// rpi/chardev/uapi.ts against the REAL uAPI header: a C program (test/fixtures/gpio-uapi-layout.c) is
// compiled with the system's <linux/gpio.h> and prints offsetof/sizeof, the ioctl numbers and flag values;
// then it decodes a request packed by uapi.ts through the header's own struct, and writes events that
// uapi.ts must unpack. No offset here comes from uapi.ts itself. Without a C compiler or the header
// (apt install gcc linux-libc-dev) the suite is skipped with the reason printed.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AttrId, EventId, Ioctl, LAYOUT, LineFlag, packLineConfig, packLineRequest, unpackLineEvents } from '../rpi/chardev/uapi.js'
import { ROOT, tmpDir } from './helpers.js'

const HEADER = '/usr/include/linux/gpio.h'
const cc = spawnSync('cc', ['--version'])
const why = cc.error ? 'no C compiler (cc)' : !existsSync(HEADER) ? `${HEADER} is missing (apt install linux-libc-dev)` : ''
if (why) console.log(`rpi-chardev-uapi: SKIPPED: ${why}`)

interface Real {
  layout: Record<string, number>
  ioctl: Record<string, number>
  flags: Record<string, string>
  ids: Record<string, number>
  request?: { num_lines: number, offsets: number[], consumer: string, event_buffer_size: number, fd: number, flags: string, num_attrs: number, attrs: Array<{ id: number, value: string, mask: string }>, padding_zero: boolean }
}

const tmp = tmpDir('pcp-uapi-')
let real: Real | undefined
const eventsFile = join(tmp.path, 'events.bin')
function compileAndRun (args: string[] = []): Real {
  const exe = join(tmp.path, 'layout')
  if (!existsSync(exe)) execFileSync('cc', ['-std=c11', '-Wall', '-Werror', '-o', exe, join(ROOT, 'test/fixtures/gpio-uapi-layout.c')])
  return JSON.parse(execFileSync(exe, args, { encoding: 'utf8' })) as Real
}

const Uapi = suite('rpi chardev uAPI v2 packing vs <linux/gpio.h>')
const t = why ? Uapi.skip : Uapi

t('every offset and size in LAYOUT equals offsetof/sizeof from the header', () => {
  real = compileAndRun()
  let compared = 0
  for (const [struct, fields] of Object.entries(LAYOUT)) {
    for (const [field, ours] of Object.entries(fields)) {
      const key = `${struct}.${field}`
      assert.ok(key in real.layout, `${key} printed by the C program`)
      assert.is(ours, real.layout[key], key)
      compared++
    }
  }
  // Every field the C program prints is covered by LAYOUT (none forgotten on our side).
  assert.is(compared, Object.keys(real.layout).length - 1)
})

t('ioctl request numbers, flag bits and ids equal the header macros', () => {
  real ??= compileAndRun()
  for (const [name, ours] of Object.entries(Ioctl)) assert.is(ours, real.ioctl[name], name)
  for (const [name, value] of Object.entries(real.flags)) assert.is(LineFlag[name as keyof typeof LineFlag], BigInt(value), name)
  assert.equal([AttrId.FLAGS, AttrId.OUTPUT_VALUES, AttrId.DEBOUNCE, EventId.RISING_EDGE, EventId.FALLING_EDGE],
    [real.ids.ATTR_FLAGS, real.ids.ATTR_OUTPUT_VALUES, real.ids.ATTR_DEBOUNCE, real.ids.RISING_EDGE, real.ids.FALLING_EDGE])
})

// uAPI v2 was designed with no compat ioctl: every u64 is __aligned_u64 and the padding explicit ("Must
// be a multiple of 8 to ensure 32/64-bit alignment of structs", <linux/gpio.h>), so 32-bit Raspberry Pi
// OS packs exactly what 64-bit does. Checked: the same C program built by Debian's armhf and arm64 cross
// compilers against their own <linux/gpio.h>, run under qemu-user, prints this host's layout and ioctls.
const cross = [['arm-linux-gnueabihf-gcc', 'qemu-arm-static', '/usr/arm-linux-gnueabihf'], ['aarch64-linux-gnu-gcc', 'qemu-aarch64-static', '/usr/aarch64-linux-gnu']] as const
const crossWhy = why || cross.map(([gcc, qemu]) => spawnSync(gcc, ['--version']).error ? gcc : spawnSync(qemu, ['--version']).error ? qemu : '').filter(Boolean).join(', ')
if (crossWhy) console.log(`rpi-chardev-uapi: 32/64-bit check SKIPPED: missing ${crossWhy} (apt-get install gcc-arm-linux-gnueabihf gcc-aarch64-linux-gnu qemu-user-static)`)
;(crossWhy ? Uapi.skip : Uapi)('armhf (32-bit) and arm64 builds of the layout program print the same offsets, sizes and ioctl numbers', () => {
  real ??= compileAndRun()
  for (const [gcc, qemu, sysroot] of cross) {
    const exe = join(tmp.path, `layout-${gcc}`)
    execFileSync(gcc, ['-std=c11', '-Wall', '-Werror', '-o', exe, join(ROOT, 'test/fixtures/gpio-uapi-layout.c')])
    const theirs = JSON.parse(execFileSync(qemu, ['-L', sysroot, exe], { encoding: 'utf8' })) as Real
    assert.equal(theirs.layout, real!.layout, `${gcc}: layout`)
    assert.equal(theirs.ioctl, real!.ioctl, `${gcc}: ioctl numbers (they encode the struct sizes)`)
  }
})

t('a packed gpio_v2_line_request reads back through the header struct', () => {
  const flags = LineFlag.INPUT | LineFlag.ACTIVE_LOW | LineFlag.EDGE_RISING | LineFlag.EDGE_FALLING | LineFlag.BIAS_PULL_UP
  const bytes = packLineRequest({
    offsets: [17, 27, 63],
    consumer: 'pcp-edge',
    eventBufferSize: 32,
    config: {
      flags,
      attrs: [
        { id: AttrId.DEBOUNCE, debounceUs: 30_000, mask: 0b010n },
        { id: AttrId.OUTPUT_VALUES, values: 0b100n, mask: 0b100n },
        { id: AttrId.FLAGS, flags: LineFlag.OUTPUT | LineFlag.BIAS_DISABLED, mask: 0b100n }
      ]
    }
  })
  const reqFile = join(tmp.path, 'request.bin')
  writeFileSync(reqFile, bytes)
  const r = compileAndRun([reqFile, eventsFile]).request!
  assert.equal(r.offsets, [17, 27, 63])
  assert.equal([r.num_lines, r.consumer, r.event_buffer_size, r.fd, BigInt(r.flags), r.num_attrs, r.padding_zero], [3, 'pcp-edge', 32, -1, flags, 3, true])
  assert.equal(r.attrs, [
    { id: 3, value: '30000', mask: '2' },
    { id: 2, value: '4', mask: '4' },
    { id: 1, value: String(LineFlag.OUTPUT | LineFlag.BIAS_DISABLED), mask: '4' }
  ])
})

t('gpio_v2_line_event records written by C unpack to the same fields', () => {
  if (!existsSync(eventsFile)) compileAndRun([join(tmp.path, 'request.bin'), eventsFile])
  const evs = unpackLineEvents(new Uint8Array(readFileSync(eventsFile)))
  assert.equal(evs, [
    { timestampNs: 0x0123456789abcdefn, id: EventId.RISING_EDGE, offset: 17, seqno: 1, lineSeqno: 1 },
    { timestampNs: 18446744073709551000n, id: EventId.FALLING_EDGE, offset: 27, seqno: 4000000000, lineSeqno: 7 }
  ])
})

t('a set-config struct has the same bytes as the config inside a request (one packer for both)', () => {
  const cfg = { flags: LineFlag.OUTPUT, attrs: [{ id: AttrId.OUTPUT_VALUES, values: 1n, mask: 1n } as const] }
  const inRequest = packLineRequest({ offsets: [4], consumer: 'x', config: cfg }).subarray(LAYOUT.gpio_v2_line_request.config, LAYOUT.gpio_v2_line_request.config + LAYOUT.gpio_v2_line_config.size)
  assert.equal([...packLineConfig(cfg)], [...inRequest])
})

Uapi('packers refuse what the kernel would reject or truncate', () => {
  const cfg = { flags: 0n, attrs: [] }
  assert.throws(() => packLineRequest({ offsets: [], consumer: 'x', config: cfg }), /"offsets" expected 1\.\.64 lines, got 0/)
  assert.throws(() => packLineRequest({ offsets: [-1], consumer: 'x', config: cfg }), /"offsets\[0\]"/)
  assert.throws(() => packLineRequest({ offsets: [1], consumer: 'x'.repeat(32), config: cfg }), /"consumer" expected at most 31 bytes, got 32/)
  const eleven = Array.from({ length: 11 }, () => ({ id: AttrId.DEBOUNCE, debounceUs: 1, mask: 1n } as const))
  assert.throws(() => packLineConfig({ flags: 0n, attrs: eleven }), /at most 10 attributes, got 11/)
})

Uapi.after(() => tmp.cleanup())
Uapi.run()
