// Source of pkg/inflate.js (bundled, minified, by scripts/build.sh): turns the
// embedded core (base64 of deflate-raw) back into WebAssembly bytes,
// synchronously, in every runtime. fflate's inflateSync does the inflating.
import { inflateSync } from 'fflate'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Standard base64 (no padding needed) to bytes: a table loop (atob is a string copy, and slower). */
function fromBase64(text) {
  const table = new Uint8Array(128)
  for (let i = 0; i < 64; i++) table[ALPHABET.charCodeAt(i)] = i
  const n = text.length - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0)
  const out = new Uint8Array((n * 3) >> 2)
  let bits = 0
  let value = 0
  let j = 0
  for (let i = 0; i < n; i++) {
    value = (value << 6) | table[text.charCodeAt(i)]
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[j++] = (value >> bits) & 0xff
    }
  }
  return out
}

/** The WebAssembly bytes of the embedded, deflated, base64 core. */
export const inflateBase64 = (text) => inflateSync(fromBase64(text))
