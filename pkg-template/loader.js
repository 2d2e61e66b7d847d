// Loads the WebAssembly core on first use. Each entry file names the source
// (`useWasm`): a compiled WebAssembly.Module (workerd, where wrangler bundles
// the .wasm), a function giving the bytes (the universal entry: the .wasm is
// embedded, deflated, in JavaScript, so every bundler and runtime takes it with
// no configuration), or a URL (the `nvm-x402/asset` entry, for bundlers that
// ship `new URL(..., import.meta.url)` assets). The first call that needs the
// core compiles it synchronously (a few ms); `await ready()` compiles it ahead
// of time, asynchronously. A failure to load is a PaymentsError
// (`wasm_load_failed`) thrown by that call, never an error at import.
//
// One core per entry per realm, whatever the order of `ready()`, synchronous
// first use and concurrent `ready()` calls: only compiling may be asynchronous;
// the instance is made in one synchronous step (`install`), which runs once.
// (The glue's own async init would check for an instance before its await and
// install a second one after it, under objects made by the first: issue #20.)
import { initSync } from './nvm_x402.js'
import { PaymentsError } from './errors.js'

let source = null
let loaded = false
let failure = null
let pending = null

/**
 * Called by each entry file: where the WebAssembly comes from. When two entries
 * of this core are loaded in one realm (`nvm-x402` and `nvm-x402/asset`), the
 * one that can load synchronously is kept, so the default entry's first call
 * keeps working (even after the asset entry's `ready()` failed to fetch).
 */
export function useWasm(where) {
  if (source !== null && !(source.url && !where.url)) return
  source = where
  if (!loaded) {
    failure = null
    pending = null
  }
}

const NO_SOURCE = 'no entry file configured the WebAssembly source; import the package by its name'

function loadFailed(error) {
  const reason = error?.message ?? String(error)
  const csp = /unsafe-eval|Content Security Policy|CSP/i.test(reason)
  const failed = new PaymentsError({
    code: 'wasm_load_failed',
    message: `The nvm-x402 WebAssembly core could not be loaded: ${reason}`,
    hint: csp
      ? "The page's Content-Security-Policy blocks WebAssembly: add 'wasm-unsafe-eval' to script-src."
      : 'Check that the runtime supports WebAssembly; with the nvm-x402/asset entry, that the bundler ships nvm_x402_bg.wasm.',
  })
  failed.cause = error
  return failed
}

/** Makes the instance from a compiled module: the only place one is made, and only once (synchronous, so nothing interleaves). */
function install(module) {
  if (loaded) return
  initSync({ module })
  loaded = true
}

/** Compiles the source asynchronously (streaming from a URL where the server says application/wasm). */
async function compile(where) {
  if (where.module) return where.module
  if (!where.url) return WebAssembly.compile(where.bytes())
  const response = await fetch(where.url)
  if (!response.ok) throw new Error(`fetching ${where.url} answered HTTP ${response.status}`)
  if (typeof WebAssembly.compileStreaming === 'function' && /^application\/wasm\b/i.test(response.headers.get('content-type') ?? '')) {
    return WebAssembly.compileStreaming(response)
  }
  return WebAssembly.compile(await response.arrayBuffer())
}

/** Loads the core now if it isn't yet (synchronously); throws a PaymentsError when it can't. */
export function ensureSync() {
  if (loaded) return
  if (failure) throw failure
  if (!source) throw loadFailed(new Error(NO_SOURCE))
  if (source.url) {
    throw new PaymentsError({ code: 'not_ready', message: 'The nvm-x402/asset entry loads its WebAssembly asynchronously: await ready() before the first call', hint: "import { ready } from 'nvm-x402/asset'; await ready()" })
  }
  try {
    install(source.module ?? new WebAssembly.Module(source.bytes()))
  } catch (error) {
    failure = loadFailed(error)
    throw failure
  }
}

/** Loads the core ahead of the first call (compiled asynchronously, off the main thread where the runtime can). */
export function ready() {
  if (loaded) return Promise.resolve()
  if (failure) return Promise.reject(failure)
  pending ??= (async () => {
    try {
      if (!source) throw new Error(NO_SOURCE)
      install(await compile(source))
    } catch (error) {
      if (loaded) return // a synchronous first use loaded it meanwhile
      failure = loadFailed(error)
      throw failure
    }
  })()
  return pending
}
