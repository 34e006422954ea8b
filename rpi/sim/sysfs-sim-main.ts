// STAND-IN process: serves a simulated /sys/class/gpio (sysfs-tree.ts) until its stdin closes.
// Started by startSysfsSimulator() inside a private mount namespace; argv[2] is JSON { root, chips, gid? }.
import { buildSysfsTree, serveSysfs } from './sysfs-tree.js'
import { inPrivateMountNamespace } from './sysfs-namespace.js'

const { root, chips, gid } = JSON.parse(process.argv[2] ?? '{}')
if (root.startsWith('/sys') && !inPrivateMountNamespace()) {
  process.stderr.write('sysfs simulator: refusing to write under /sys outside a private mount namespace\n')
  process.exit(2)
}
buildSysfsTree(root, chips, { gid })
const server = serveSysfs(root, chips, { gid })
process.stdout.write('ready\n')
process.stdin.on('end', () => { server.close(); process.exit(0) })
process.stdin.resume()
