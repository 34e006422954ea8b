// Builds the character-device GPIO addon (rpi/native/gpiochip.c) for the platforms the package ships
// prebuilt, with Debian's cross compilers straight against Node's own headers (no node-gyp: the addon
// is one C file using only <node_api.h>, so a gcc line is the whole build):
//   linux-x64    gcc (or x86_64-linux-gnu-gcc off x86-64)
//   linux-arm64  aarch64-linux-gnu-gcc      Pi 4/5, Zero 2 W on a 64-bit OS
//   linux-arm    arm-linux-gnueabihf-gcc    32-bit Raspberry Pi OS; built for ARMv6 + VFP (-marm):
//                                           Raspberry Pi OS's armhf (unlike Debian's, ARMv7) also runs
//                                           on the ARM1176 of a Pi 1 / Zero W
// and writes rpi/native/prebuilds/manifest.json: the source's sha256 (test/rpi-chardev.test.ts fails
// when gpiochip.c changed and the prebuilds were not rebuilt), each binary's sha256, the compiler and the
// newest glibc symbol version it needs. Each
// target records the source it was built from, so a partial rebuild (--only) cannot hide a stale one. `npm run build:prebuilds [-- --only linux-arm64]`.
// Needs: apt-get install gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf (binutils' readelf reads all three).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { arch, homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const SRC = 'rpi/native/gpiochip.c'
const OUT = 'rpi/native/prebuilds'
export const NAPI_VERSION = 8
// -Wl,-s: no symbol table beyond the dynamic one (smaller; the build is then byte-reproducible with
// the same compiler). -fvisibility=hidden: only napi_register_module_v1 and the API-version hook export.
const COMMON = ['-shared', '-fPIC', '-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-fvisibility=hidden',
  `-DNAPI_VERSION=${NAPI_VERSION}`, '-DBUILDING_NODE_EXTENSION', '-pthread', '-Wl,-s', '-Wl,--build-id=sha1']
export const TARGETS = {
  'linux-x64': { cc: arch() === 'x64' ? 'gcc' : 'x86_64-linux-gnu-gcc', flags: [], pkg: 'gcc' },
  'linux-arm64': { cc: 'aarch64-linux-gnu-gcc', flags: [], pkg: 'gcc-aarch64-linux-gnu' },
  // -nostartfiles: Debian's armhf crti.o/crtbeginS.o are ARMv7 Thumb-2 and would make the whole object
  // v7 (readelf -A: Tag_CPU_arch); the addon needs none of them (no constructors, no atexit).
  'linux-arm': { cc: 'arm-linux-gnueabihf-gcc', flags: ['-marm', '-march=armv6+fp', '-mfpu=vfp', '-mfloat-abi=hard', '-nostartfiles'], pkg: 'gcc-arm-linux-gnueabihf' }
}

/** Node's headers: beside this node (its include/node), else node-gyp's download of them. */
function nodeHeaders () {
  const dirs = [join(dirname(process.execPath), '../include/node'), join(homedir(), '.cache/node-gyp', process.versions.node, 'include/node')]
  const found = dirs.find((d) => existsSync(join(d, 'node_api.h')))
  if (!found) throw new Error(`no node_api.h in ${dirs.join(' or ')}: install Node's headers (npx node-gyp install)`)
  return found
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex')

/** The newest GLIBC_x.y the binary's version-needs name: the oldest glibc it loads on. */
function glibcNeeded (file) {
  const text = execFileSync('readelf', ['--version-info', '--wide', file], { encoding: 'utf8' })
  const versions = [...text.matchAll(/Name: GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])])
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  const v = versions.at(-1)
  return v ? `${v[0]}.${v[1]}` : null
}

/** Builds into `outRoot` (default: the repository; test/rpi-prebuilds.test.ts rebuilds into a temp dir). */
export function buildPrebuilds (only, outRoot = ROOT) {
  const headers = nodeHeaders()
  const manifestPath = join(outRoot, OUT, 'manifest.json')
  const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : { targets: {} }
  const source = readFileSync(join(ROOT, SRC))
  for (const [target, t] of Object.entries(TARGETS)) {
    if (only && !only.includes(target)) continue
    let version
    try { version = execFileSync(t.cc, ['--version'], { encoding: 'utf8' }).split('\n')[0] } catch {
      throw new Error(`${target}: ${t.cc} not found (apt-get install ${t.pkg})`)
    }
    const rel = `${OUT}/${target}/pcp_gpiochip.node`
    mkdirSync(join(outRoot, OUT, target), { recursive: true })
    const args = [...COMMON, ...t.flags, '-I', headers, '-o', join(outRoot, rel), join(ROOT, SRC)]
    execFileSync(t.cc, args, { stdio: ['ignore', 'inherit', 'inherit'] })
    const bin = readFileSync(join(outRoot, rel))
    manifest.targets[target] = { file: rel, sha256: sha256(bin), bytes: bin.length, cc: version, flags: [...COMMON, ...t.flags].join(' '), glibc: glibcNeeded(join(outRoot, rel)), source_sha256: sha256(source) }
    if (outRoot === ROOT) console.log(`${rel}: ${bin.length} bytes, glibc >= ${manifest.targets[target].glibc}, ${version}`)
  }
  Object.assign(manifest, { source: SRC, napi_version: NAPI_VERSION, node_headers_from: `node ${process.version}` })
  manifest.targets = Object.fromEntries(Object.entries(manifest.targets).sort(([a], [b]) => a.localeCompare(b)))
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--only')
  const o = process.argv.indexOf('--out')
  buildPrebuilds(i > 0 ? process.argv[i + 1].split(',') : undefined, o > 0 ? process.argv[o + 1] : ROOT)
}
