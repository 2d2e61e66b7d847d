// Pairs the requests the two drivers made, call by call, and lists every
// difference in method, path, query, significant headers and body JSON; the
// allow-list (allowlist.json) says which differences are reviewed, and why.

/** Headers that change what the backend does; transport headers (host, user-agent, ...) are not compared. */
export const SIGNIFICANT_HEADERS = ['authorization', 'content-type', 'accept', 'nevermined-version', 'x-current-org-id']

const ABSENT = '<absent>'
const sortQuery = (search) => [...new URLSearchParams(search)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
const parseBody = (text) => {
  if (text === '') return ABSENT
  try {
    return JSON.parse(text)
  } catch {
    return { unparsed: text }
  }
}
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

/** Differences between two JSON values as `{where, py, js}`, `where` a JSON pointer under `prefix`. */
function diffJson(py, js, prefix, out) {
  if (isObject(py) && isObject(js)) {
    for (const key of new Set([...Object.keys(py), ...Object.keys(js)])) {
      diffJson(key in py ? py[key] : ABSENT, key in js ? js[key] : ABSENT, `${prefix}/${key}`, out)
    }
  } else if (Array.isArray(py) && Array.isArray(js) && py.length === js.length) {
    py.forEach((item, i) => diffJson(item, js[i], `${prefix}/${i}`, out))
  } else if (JSON.stringify(py) !== JSON.stringify(js)) {
    out.push({ where: prefix, py, js })
  }
}

/** Every difference between the requests of one call. */
export function diffCall(id, pyRequests = [], jsRequests = []) {
  const out = []
  let pairs = pyRequests.slice(0, jsRequests.length).map((py, i) => [py, jsRequests[i]])
  if (pyRequests.length !== jsRequests.length) {
    out.push({ where: 'requests', py: pyRequests.map((r) => `${r.method} ${r.path}`), js: jsRequests.map((r) => `${r.method} ${r.path}`) })
    // Each of py's requests is still compared with js's of the same method and path (in
    // order), so that a reviewed extra request does not hide a difference in the others.
    const paired = []
    let from = 0
    for (const py of pyRequests) {
      const k = jsRequests.findIndex((js, j) => j >= from && js.method === py.method && js.path === py.path)
      if (k < 0) break
      paired.push([py, jsRequests[k]])
      from = k + 1
    }
    if (paired.length === pyRequests.length) pairs = paired
  }
  pairs.forEach(([py, js], i) => {
    const at = pyRequests.length > 1 ? `#${i}` : ''
    if (py.method !== js.method) out.push({ where: `${at}method`, py: py.method, js: js.method })
    if (py.path !== js.path) out.push({ where: `${at}path`, py: py.path, js: js.path })
    const [pq, jq] = [sortQuery(py.query), sortQuery(js.query)]
    if (JSON.stringify(pq) !== JSON.stringify(jq)) out.push({ where: `${at}query`, py: Object.fromEntries(pq), js: Object.fromEntries(jq) })
    for (const name of SIGNIFICANT_HEADERS) {
      const [ph, jh] = [py.headers[name] ?? ABSENT, js.headers[name] ?? ABSENT]
      if (ph !== jh) out.push({ where: `${at}header:${name}`, py: ph, js: jh })
    }
    diffJson(parseBody(py.body), parseBody(js.body), `${at}body`, out)
  })
  return out.map((d) => ({ call: id, ...d }))
}

/** Whether an allow-list entry covers a difference: the same call (or `*`), place and values (`{"any": true}` matches any value). */
export function covers(entry, difference) {
  const same = (expected, actual) => (isObject(expected) && expected.any === true) || JSON.stringify(expected) === JSON.stringify(actual)
  const calls = Array.isArray(entry.calls) ? entry.calls : [entry.calls]
  const wheres = Array.isArray(entry.where) ? entry.where : [entry.where]
  return (calls.includes('*') || calls.includes(difference.call)) && wheres.includes(difference.where) && same(entry.py, difference.py) && same(entry.js, difference.js)
}
