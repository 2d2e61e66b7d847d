// Deno and Bun for the tests, from the npm registry (packages `deno` and `bun`),
// at the versions the bundler matrix pins (tests/matrix/projects/<name>/: its
// package.json and lockfile), installed once into .cache/runtimes/<name>/ and
// reinstalled only when that lockfile changes.
import { execFile } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from './servers.mjs'

const installing = new Map()

/** The path of the `deno` or `bun` executable, installed first if it is missing or stale. */
export function runtimeBinary(name) {
  if (!installing.has(name)) installing.set(name, install(name))
  return installing.get(name)
}

async function install(name) {
  const pinned = join(ROOT, 'tests/matrix/projects', name)
  const dir = join(ROOT, '.cache/runtimes', name)
  const bin = join(dir, 'node_modules/.bin', name)
  const stamp = join(dir, 'node_modules/.package-lock.json')
  const lock = join(pinned, 'package-lock.json')
  if (existsSync(bin) && existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(lock).mtimeMs) return bin
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  await copyFile(join(pinned, 'package.json'), join(dir, 'package.json'))
  await copyFile(lock, join(dir, 'package-lock.json'))
  await promisify(execFile)('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, timeout: 300_000 })
  return bin
}
