// In place of mcp-server.js in the entries without the MCP paywall (scripts/build.sh
// writes the entry's name): payments.mcp's server side is in nvm-x402/mcp.
import { PaymentsError } from './errors.js'

const absent = (name) => () => {
  throw new PaymentsError({ code: 'not_in_entry', message: `mcp.${name} is not in __ENTRY__, which carries a smaller core`, hint: "import { Payments } from 'nvm-x402/mcp' for it" })
}

export const mcpServer = () => ({ configure: absent('configure'), withPaywall: absent('withPaywall'), attach: absent('attach'), discovery: absent('discovery') })
