#!/usr/bin/env bash
# The one way to build nvm-x402: the wasm package into pkg/ (and, with --all,
# the nvm-local binary). Every other entry point (tests, demo, CI) calls this.
#   scripts/build.sh          # pkg/
#   scripts/build.sh --all    # pkg/ and target/release/nvm-local
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"

say() { printf '\033[2m[build]\033[0m %s\n' "$*" >&2; }

OUT="$ROOT/pkg"
mkdir -p "$ROOT/target"   # a fresh clone has none yet
STAGE="$(mktemp -d "$ROOT/target/pkg.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT

# Short source paths in the few panic locations the .wasm keeps (they are data, and long).
REGISTRY="${CARGO_HOME:-$HOME/.cargo}/registry/src"
WASM="target/wasm32-unknown-unknown/wasm-release/nvm_x402.wasm"

# One core per package entry, each with only what that entry offers (Cargo.toml's features):
#   pkg/        nvm-x402        subscriber,builder,browser  (and a web page's sign-in)
#   pkg/agent/  nvm-x402/agent  agent   (the HTTP paywall)
#   pkg/mcp/    nvm-x402/mcp    mcp     (the MCP paywall)
#   pkg/a2a/    nvm-x402/a2a    a2a     (the A2A paywall)
#   pkg/a2a-client/  nvm-x402/a2a-client  subscriber,a2a-client  (the paying client and the A2A client)
#   pkg/mpp/    nvm-x402/mpp    subscriber,mpp  (the paying client and the MPP buyer)
#   pkg/express-core/  nvm-x402/express  agent,mpp  (the HTTP paywall with MPP routes; embedded only)
core() {
  local dir="$STAGE/$1" features="$2"
  say "compiling the core for ${3} to wasm32 (features ${features}; profile wasm-release)"
  RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=$REGISTRY= --remap-path-prefix=$ROOT=nvm-x402" \
    cargo build --quiet --target wasm32-unknown-unknown -p nvm-x402 --profile wasm-release \
    --no-default-features --features "$features"
  mkdir -p "$dir"
  # No default module path: every entry-*.js passes the .wasm (or its URL) explicitly.
  wasm-bindgen --target web --omit-default-module-path --out-dir "$dir" --out-name nvm_x402 "$WASM"
  # The generated glue is shipped minified (about 1.7 KB less gzipped), as the hand-written
  # modules are (at the end); the types are shipped as written.
  node_modules/.bin/esbuild "$dir/nvm_x402.js" --minify --format=esm --log-level=warning \
    --outfile="$dir/nvm_x402.min.js"
  mv "$dir/nvm_x402.min.js" "$dir/nvm_x402.js"
  # -Oz, repeated (--converge) until it stops shrinking; no custom sections are kept. A
  # function with one caller is inlined only when small (20): -2.3 to -3.3 KB gzipped per
  # core (more bytes raw, fewer after gzip; bench/README.md "Inlining").
  node_modules/.bin/wasm-opt -Oz --converge --one-caller-inline-max-function-size=20 --strip-debug --strip-producers --strip-target-features \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$dir/nvm_x402_bg.wasm" -o "$dir/nvm_x402_bg.opt.wasm"
  mv "$dir/nvm_x402_bg.opt.wasm" "$dir/nvm_x402_bg.wasm"
  # The generated .d.ts files are replaced by the hand-owned types in pkg-template/.
  rm -f "$dir/nvm_x402.d.ts" "$dir/nvm_x402_bg.wasm.d.ts"
  # index.js (every bundler and runtime) takes the core from wasm-inline.js: deflated, base64,
  # inflated on first use by inflate.js (fflate's inflateSync, bundled; MIT).
  node scripts/pkg/embed-wasm.mjs "$dir"
}
core . subscriber,builder,browser nvm-x402
core agent agent nvm-x402/agent
core mcp mcp,langchain nvm-x402/mcp
core a2a a2a nvm-x402/a2a
core a2a-client subscriber,a2a-client nvm-x402/a2a-client
core mpp subscriber,mpp nvm-x402/mpp
core express-core agent,mpp nvm-x402/express

say "writing the entries"
cp -R pkg-template/. "$STAGE/"
cp LICENSE "$STAGE/"
# Adds one export line to an entry's three entry files (dir: . for nvm-x402, else the sub-entry).
reexport() { for file in index.js asset.js entry-workerd.js; do printf '%s\n' "$2" >> "$STAGE/$1/$file"; done; }
# The paywalls an entry lacks are stand-ins that answer `not_in_entry` (pkg-template/absent/).
absent() { sed "s#__ENTRY__#$2#" "pkg-template/absent/$1" > "$STAGE/$3/$1"; }
for sub in agent mcp a2a a2a-client mpp express-core; do
  # Each core has its own facade, loader and entries; the stateless modules are the root's
  # (one PaymentsError class for every entry).
  cp pkg-template/{core.js,loader.js,index.js,asset.js,entry-workerd.js,paywall.js,mcp-server.js} "$STAGE/$sub/"
  for shared in errors.js wire.js inflate.js; do
    printf "export * from '../%s'\n" "$shared" > "$STAGE/$sub/$shared"
  done
done
# core.js's payments.a2a stand-ins name the entry.
for named in .:nvm-x402 agent:nvm-x402/agent mcp:nvm-x402/mcp a2a:nvm-x402/a2a a2a-client:nvm-x402/a2a-client mpp:nvm-x402/mpp express-core:nvm-x402/express; do
  sed -i "s#__ENTRY__#${named#*:}#" "$STAGE/${named%%:*}/core.js"
done
absent paywall.js nvm-x402 .
absent mcp-server.js nvm-x402 .
absent mcp-server.js nvm-x402/agent agent
absent paywall.js nvm-x402/mcp mcp
absent paywall.js nvm-x402/a2a a2a
absent mcp-server.js nvm-x402/a2a a2a
absent paywall.js nvm-x402/a2a-client a2a-client
absent mcp-server.js nvm-x402/a2a-client a2a-client
absent paywall.js nvm-x402/mpp mpp
absent mcp-server.js nvm-x402/mpp mpp
absent mcp-server.js nvm-x402/express express-core
# nvm-x402/mpp: the official MPP codec, helpers and error classes, over core.js's exports.
mv "$STAGE/mpp.js" "$STAGE/mpp/mpp.js"
reexport mpp "export { MppError, MppNotConfiguredError, MppCredentialRejectedError, MppChallengeExpiredError, MppBodyDigestMismatchError, MppSettlementOutcomeUnknownError, MppSpendOutcomeUnknownError, MPP_SETTLEMENT_OUTCOME_UNKNOWN_CODE, MPP_SPEND_OUTCOME_UNKNOWN_CODE, mppSpendOf, parseChallengeHeader, buildCredentialHeader, parseReceiptHeader, extractPaymentScheme, extractCredentialChallengeId, normalizeCredits, isRetryableMppCode } from './mpp.js'"
# nvm-x402: its Payments (with getBrowserInstance, a web page's sign-in) over core.js's.
reexport . "export { Payments } from './signin.js'"
# nvm-x402/a2a: its Payments (with payments.a2a) and the A2A paywall's exports over core.js's.
mv "$STAGE/a2a-server.js" "$STAGE/a2a/a2a-server.js"
reexport a2a "export { Payments, buildPaymentAgentCard, InMemoryA2ATaskStore, A2ATaskStore, durableObjectTaskStore } from './a2a-server.js'"
# nvm-x402: payments-py's v3 token helpers (tokens.js), over core.js's exports.
reexport . "export { detectAccessTokenVersion, isSingleUseAccessToken, isAccessTokenAlreadyUsed } from './tokens.js'"
# nvm-x402, nvm-x402/a2a and nvm-x402/a2a-client: the official A2A in-band helpers and constants.
for sub in a2a a2a-client; do cp pkg-template/a2a-utils.js "$STAGE/$sub/"; done
for dir in . a2a a2a-client; do
  reexport "$dir" "export { A2A_X402_EXTENSION_URI, NVM_PAYMENT_EXTENSION_URI, AGENT_CARD_WELL_KNOWN_PATH, LEGACY_AGENT_CARD_WELL_KNOWN_PATH, X402_SETTLEMENT_DEFERRED_KEY, A2APaymentStatus, X402A2AMetadata, X402A2AUtils, x402A2AUtils } from './a2a-utils.js'"
done
# nvm-x402: the official SDK's organization enums (its core has the organizations calls).
reexport . "export { CURRENT_ORG_ID_HEADER, OrganizationMemberRole, OrganizationType, OrganizationActivityEventType } from './organizations.js'"
# nvm-x402/mcp: the official SDK's OAuth builders, over core.js's exports.
reexport mcp "export { getOAuthUrls, buildProtectedResourceMetadata, buildMcpProtectedResourceMetadata, buildAuthorizationServerMetadata, buildOidcConfiguration, buildServerInfoResponse, createRequireAuthMiddleware } from './mcp-server.js'"
# nvm-x402/a2a-client: its Payments (with payments.a2a.getClient) over core.js's, which hands
# it the paying loop for its A2A calls in place of the core (only in this entry's copy: the
# other entries' core.js stays as it is, byte for byte; the build fails if the line moved).
# A stream's call also hands paying() `streamed`, which wraps the courier so that the core
# reads the body as it comes and hands its events over on the way (a2a-client.js).
mv "$STAGE/a2a-client.js" "$STAGE/a2a-client/a2a-client.js"
for edit in \
  "Object.defineProperty(this, Symbol.for('nvm-x402.core'), { value: core })#Object.defineProperty(this, Symbol.for('nvm-x402.core'), { value: (kind, request, options, streamed) => paying(core, kind, agentFetchImpl, request, options, streamed) })" \
  "async function paying(core, kind, fetchImpl, original, options) {#async function paying(core, kind, fetchImpl, original, options, streamed) {" \
  "toJson(options ?? null), send)#toJson(options ?? null), streamed ? streamed(send, held) : send)"; do
  grep -qF "${edit%%#*}" "$STAGE/a2a-client/core.js" || { echo "build.sh: core.js's '${edit%%#*}' is not there" >&2; exit 1; }
  sed -i "s#${edit%%#*}#${edit#*#}#" "$STAGE/a2a-client/core.js"
done
reexport a2a-client "export { Payments } from './a2a-client.js'"
rm -rf "$STAGE/absent"
# nvm-x402/express runs on Node only: its core is loaded embedded (express-core/index.js), never as an asset.
rm -f "$STAGE/express-core/asset.js" "$STAGE/express-core/entry-workerd.js" "$STAGE/express-core/nvm_x402_bg.wasm"
node_modules/.bin/esbuild scripts/pkg/inflate.js --bundle --minify --format=esm --log-level=warning \
  --banner:js="/*! inflateSync from fflate 0.8.3, (c) Arjun Barrett, MIT License: https://github.com/101arrowz/fflate */" \
  --outfile="$STAGE/inflate.js"
# require('nvm-x402'): the universal entry as one CommonJS file (Node 20 before 20.19 can't require ESM).
# The agent entries are ESM only: require() of them needs Node 20.19+ (require(esm)).
node_modules/.bin/esbuild "$STAGE/index.js" --bundle --minify --format=cjs --platform=neutral --log-level=warning \
  --outfile="$STAGE/index.cjs"
# Its types: CommonJS copies of the declarations it reaches, importing each other as .cjs.
for dts in index common wire-types a2a-utils; do
  sed "s#from '\./\([a-z0-9-]*\)\.js'#from './\1.cjs'#" "$STAGE/$dts.d.ts" > "$STAGE/$dts.d.cts"
done

# The hand-written modules are shipped without comments and whitespace (esbuild's
# --minify-whitespace and --minify-syntax; names are not mangled, so stack traces and
# an entry's exports keep their names; inner function expressions may lose theirs): 2-5 KB
# less gzipped per entry.
# The generated glue, inflate.js and the embedded core are minified already.
# Their /* @__PURE__ */ annotations are kept (scripts/pkg/minify.mjs), for users' bundlers.
node scripts/pkg/minify.mjs "$STAGE" $(cd "$STAGE" && find . -name '*.js' ! -name nvm_x402.js ! -name inflate.js ! -name wasm-inline.js)

rm -rf "$OUT"
mv "$STAGE" "$OUT"
trap - EXIT
# Tests, the Worker example and the demo import the package by name, as npm users do.
ln -sfn ../pkg node_modules/nvm-x402
say "pkg/ ready ($(du -sh "$OUT" | cut -f1))"

if [ "${1:-}" = "--all" ]; then
  say "compiling nvm-local (release)"
  cargo build --quiet --release -p nvm-local
fi
