'use client'
// The subscriber's side in the browser: pays the gated route with fetchWithPayment.
// The key comes from the form (the page is a demo: a real app signs its users in).
import { useState } from 'react'
import { Payments } from 'nvm-x402'

export default function Page() {
  const [state, setState] = useState({ answer: '', error: '' })
  async function ask(event) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    try {
      const payments = Payments.getInstance({ nvmApiKey: form.get('key'), backendUrl: form.get('backend') || undefined })
      const { response, paymentResponse } = await payments.fetch(`/api/${form.get('runtime')}`, { method: 'POST' }, { planIds: [form.get('plan')] })
      setState({ answer: `${response.status} ${JSON.stringify(await response.json())}, ${paymentResponse?.creditsRedeemed ?? 0} credit(s) burned`, error: '' })
    } catch (error) {
      setState({ answer: '', error: `${error.code}: ${error.message}` })
    }
  }
  return (
    <main>
      <h1>A paid route handler</h1>
      <form onSubmit={ask}>
        <input name="key" placeholder="subscriber API key" />
        <input name="plan" placeholder="plan id" />
        <input name="backend" placeholder="backend URL (nvm-local: http://127.0.0.1:3001)" />
        <select name="runtime" defaultValue="ask">
          <option value="ask">Node runtime</option>
          <option value="edge">edge runtime</option>
        </select>
        <button type="submit">Ask (pays 1 credit)</button>
      </form>
      <p>{state.answer}</p>
      <p role="alert">{state.error}</p>
    </main>
  )
}
