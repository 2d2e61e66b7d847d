// Loads the WebAssembly core on first use. Each entry file names the source
// (`useWasm`): a compiled WebAssembly.Module (workerd, where wrangler bundles
// the .wasm), a function giving the bytes (the universal entry: the .wasm is
// embedded, deflated, in JavaScript, so every bundler and runtime takes it with
// no configuration), or a URL (the `nvm-x402/asset` entry, for bundlers that
// ship `new URL(..., import.meta.url)` assets). The first call that needs the
// core compiles it synchronously (a few ms); `await ready()` compiles it ahead
// of time, asynchronously. A failure to load is a PaymentsError
// (`wasm_load_failed`) thrown by that call, never an error at import.
import init, { initSync } from './nvm_x402.js'
import { PaymentsError } from './errors.js'

let source = null
let loaded = false
let failure = null
let pending = null

/** Called once by the entry file: where the WebAssembly comes from. */
export function useWasm(where) {
  source = where
}

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

/** Loads the core now if it isn't yet (synchronously); throws a PaymentsError when it can't. */
export function ensureSync() {
  if (loaded) return
  if (failure) throw failure
  if (!source) throw loadFailed(new Error('no entry file configured the WebAssembly source; import the package by its name'))
  if (source.url) {
    throw new PaymentsError({ code: 'not_ready', message: 'The nvm-x402/asset entry loads its WebAssembly asynchronously: await ready() before the first call', hint: "import { ready } from 'nvm-x402/asset'; await ready()" })
  }
  try {
    initSync({ module: source.module ?? new WebAssembly.Module(source.bytes()) })
    loaded = true
  } catch (error) {
    failure = loadFailed(error)
    throw failure
  }
}

/** Loads the core ahead of the first call (asynchronously, off the main thread where the runtime can). */
export function ready() {
  if (loaded) return Promise.resolve()
  if (failure) return Promise.reject(failure)
  pending ??= (async () => {
    try {
      if (!source) throw new Error('no entry file configured the WebAssembly source; import the package by its name')
      if (source.module) initSync({ module: source.module })
      else await init({ module_or_path: source.url ?? source.bytes() })
      loaded = true
    } catch (error) {
      failure = loadFailed(error)
      throw failure
    }
  })()
  return pending
}
