// Measuring a Worker on workerd (wrangler dev --local), shared by bench/gate.mjs
// and bench/compare.mjs: the CPU time of the workerd processes wrangler started
// (from /proc/<pid>/stat, so Linux only) and keep-alive load from Node.
import http from 'node:http'
import { execSync } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import { startWrangler } from '../tests/js/support/servers.mjs'

const TICK_MS = 1000 / Number(execSync('getconf CLK_TCK').toString().trim())

/** `{ppid, comm, ticks}` of a process (ticks: utime + stime, in clock ticks). */
async function statOf(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { ppid: fields[1], comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ticks: Number(fields[11]) + Number(fields[12]) }
}

/** The processes started by this one (wrangler's node and workerd), as `{pid: comm}`. */
async function descendants() {
  const all = {}
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
    all[pid] = await statOf(pid).catch(() => undefined) // exited meanwhile
  }
  const mine = (pid) => {
    for (let p = pid; all[p]; p = all[p].ppid) if (Number(all[p].ppid) === process.pid) return true
    return false
  }
  return Object.fromEntries(Object.keys(all).filter((pid) => all[pid] && mine(pid)).map((pid) => [pid, all[pid].comm]))
}

/** CPU time (user + system) the processes used so far, in ms. */
export const cpuMs = async (pids) => (await Promise.all(pids.map((pid) => statOf(pid).catch(() => ({ ticks: 0 }))))).reduce((sum, s) => sum + s.ticks, 0) * TICK_MS

/**
 * Starts the Worker in `cwd` with `vars` and finds its processes: resolves to
 * `{url, output, workerd, others, drive, stop}` (`output()`: wrangler's so far); `workerd` and `others` are pids
 * (workerd's, and wrangler's node processes), `drive(count, path, headers,
 * clients)` sends `count` POSTs from `clients` keep-alive clients and resolves
 * to the statuses seen.
 */
export async function startMeasuredWorker({ cwd, vars }) {
  const worker = await startWrangler({ cwd, vars })
  const started = await descendants()
  const workerd = Object.keys(started).filter((pid) => started[pid].startsWith('workerd'))
  const others = Object.keys(started).filter((pid) => !workerd.includes(pid))
  if (workerd.length === 0) {
    await worker.stop()
    throw new Error('no workerd process found under wrangler')
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const { hostname, port } = new URL(worker.url)
  const body = JSON.stringify({ prompt: 'how many characters and words are in this prompt' })
  const send = (path, headers) =>
    new Promise((ok, fail) => {
      const req = http.request({ host: hostname, port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
        res.resume()
        res.on('end', () => ok(res))
      })
      req.on('error', fail)
      req.end(body)
    })
  async function drive(count, path, headers = {}, clients = 8) {
    const statuses = {}
    let sent = 0
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (sent < count) {
          sent++
          const { statusCode } = await send(path, headers)
          statuses[statusCode] = (statuses[statusCode] ?? 0) + 1
        }
      }),
    )
    return statuses
  }
  return {
    url: worker.url,
    output: worker.output,
    workerd,
    others,
    drive,
    stop: async () => {
      agent.destroy()
      await worker.stop()
    },
  }
}
