// Cloudflare Workers (workerd): wrangler bundles the .wasm as a compiled WebAssembly.Module
// (Workers can't compile WebAssembly from bytes at run time).
import wasm from './nvm_x402_bg.wasm'
import { useWasm } from './loader.js'

useWasm({ module: wasm })

export * from './core.js'
