// In place of paywall.js in the entries without the HTTP paywall (scripts/build.sh
// writes the entry's name): payments.paywall() is in nvm-x402/agent.
import { PaymentsError } from './errors.js'

export class Paywall {
  constructor() {
    throw new PaymentsError({ code: 'not_in_entry', message: 'paywall() is not in __ENTRY__, which carries a smaller core', hint: "import { Payments } from 'nvm-x402/agent' for it" })
  }
}
