// Deno and Bun for the tests, from the npm registry (packages `deno` and `bun`),
// at the versions the bundler matrix pins (tests/matrix/projects/<name>/: its
// package.json and lockfile), installed once into .cache/runtimes/<name>/ and
// reinstalled only when that lockfile changes. Several test files (processes,
// run at once by `node --test`) may ask for the same runtime: each installs
// into a directory of its own and moves it into place in one rename; the first
// to arrive wins and the others use its copy.
import { execFile } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { copyFile, mkdir, rename, rm } from 'node:fs/promises'
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
  const lock = join(pinned, 'package-lock.json')
  const fresh = () => {
    const stamp = join(dir, 'node_modules/.package-lock.json')
    return existsSync(bin) && existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(lock).mtimeMs
  }
  if (fresh()) return bin
  const own = `${dir}.installing-${process.pid}`
  await rm(own, { recursive: true, force: true })
  await mkdir(own, { recursive: true })
  try {
    await copyFile(join(pinned, 'package.json'), join(own, 'package.json'))
    await copyFile(lock, join(own, 'package-lock.json'))
    await promisify(execFile)('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: own, timeout: 300_000 })
    // A rename onto a directory that has files fails: another process's fresh copy is kept
    // (and used), a stale one (an older lockfile's) replaced.
    await rename(own, dir).catch(async () => {
      if (fresh()) return
      await rm(dir, { recursive: true, force: true })
      await rename(own, dir)
    })
  } finally {
    await rm(own, { recursive: true, force: true })
  }
  return bin
}
