// `nvm-x402/asset`: for bundlers that ship `new URL(..., import.meta.url)`
// assets (Vite, webpack 5, Parcel) and pages served as plain ES modules: the
// .wasm is fetched and compiled streaming, and nothing is embedded, so the
// JavaScript stays small. Call `await ready()` before the first call.
import { useWasm } from './loader.js'

useWasm({ url: new URL('./nvm_x402_bg.wasm', import.meta.url) })

export * from './core.js'
