#!/usr/bin/env node
// The `pcp` command. In a source checkout (cli/main.ts is here) it runs the TypeScript through tsx, a
// dev dependency, so `npx pcp` works right after `npm ci` and never runs a stale build. An installed
// package ships only dist/ (package.json "files") and runs the compiled CLI.
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { join, dirname } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const source = join(root, 'cli', 'main.ts')
if (existsSync(source) && !process.env.PCP_FROM_DIST) {
  const { register } = await import('tsx/esm/api')
  register()
  await import(pathToFileURL(source).href)
} else {
  await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href)
}
