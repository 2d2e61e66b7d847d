// Cloudflare Workers (workerd): wrangler bundles the .wasm as a compiled WebAssembly.Module.
import wasm from './nvm_x402_bg.wasm'
import { initSync } from './nvm_x402.js'

initSync({ module: wasm })

export * from './core.js'
