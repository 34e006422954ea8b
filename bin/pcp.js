#!/usr/bin/env node
// The `pcp` command. Installed packages run the compiled CLI; a source checkout runs the TypeScript
// through tsx (a dev dependency), so `npx pcp` works right after `npm ci`.
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { join, dirname } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const built = join(root, 'dist', 'cli', 'main.js')
if (existsSync(built) && !process.env.PCP_FROM_SOURCE) {
  await import(pathToFileURL(built).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import(pathToFileURL(join(root, 'cli', 'main.ts')).href)
}
