// The universal entry (browsers, every bundler, Node, Deno, Bun): the
// WebAssembly core is embedded in wasm-inline.js (deflated, base64), so nothing
// needs to ship or fetch a .wasm asset and no permission is needed to read one.
// It is inflated and compiled on first use (see loader.js).
import { useWasm } from './loader.js'
import { inflateBase64 } from './inflate.js'
import wasm from './wasm-inline.js'

useWasm({ bytes: () => inflateBase64(wasm) })

export * from './core.js'
