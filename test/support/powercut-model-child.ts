// Child for the stand-in's own test (store-powercut.test.ts): a fixed sequence of writes, syncs and
// directory operations on the power-losing filesystem at argv[2]; prints "done" with what it read back.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { join } from 'node:path'

const root = process.argv[2]!
const write = (name: string, text: string, sync: boolean): void => {
  const fd = openSync(join(root, name), 'a')
  writeSync(fd, text)
  if (sync) fsyncSync(fd)
  closeSync(fd)
}
write('kept', 'synced', true)
write('kept', ' then not', false)           // appended, never synced
write('never-synced', 'lost', false)        // created, never synced
mkdirSync(join(root, 'dir'))
write('dir/synced', 'in a new dir', true)   // its fsync commits the journal: dir and earlier creates
renameSync(join(root, 'kept'), join(root, 'renamed'))  // after the last commit: lost
const readBack = readFileSync(join(root, 'renamed'), 'utf8') + '|' + readFileSync(join(root, 'never-synced'), 'utf8')
process.stdout.write(`done ${readBack}\n`)
setInterval(() => {}, 1000)                 // stay until killed
