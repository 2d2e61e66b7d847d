// The entry of every matrix project (copied into each as src/main.js by run.mjs):
// import the package's entries by name, run the checks, report. Pages set
// window.result; runtimes print one JSON line.
import * as nvm from 'nvm-x402'
import * as agent from 'nvm-x402/agent'
import * as mcp from 'nvm-x402/mcp'
import * as a2a from 'nvm-x402/a2a'
import * as a2aClient from 'nvm-x402/a2a-client'
import * as mpp from 'nvm-x402/mpp'
import { checks } from './checks.js'

const report = (result) => {
  if (typeof window !== 'undefined') window.result = result
  else console.log(JSON.stringify(result))
}
checks(nvm, agent, mcp, a2a, a2aClient, mpp).then(report, (error) => report({ failed: String(error?.stack ?? error), code: error?.code }))
