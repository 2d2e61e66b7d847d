// Browsers and bundlers: fetch and compile the .wasm beside this file (top-level await).
// Bundlers (Vite, webpack 5, esbuild) recognise `new URL(..., import.meta.url)` and ship the asset.
import init from './nvm_x402.js'

await init({ module_or_path: new URL('./nvm_x402_bg.wasm', import.meta.url) })

export * from './core.js'
