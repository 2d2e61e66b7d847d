// Small DOM helpers for the demo page: element building (text only, never
// HTML strings), actions with loading states, errors with their code, JSON.

/** `h('p', {class: 'x', onclick}, 'text', node, ...)`: an element; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value)
    else if (name === 'class') node.className = value
    else node.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue
    node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return node
}

export const $ = (selector, root = document) => root.querySelector(selector)

/** `0x1234…abcd` / `123456…7890`: a long id shortened for display (the full value in the title). */
export function short(value, head = 8, tail = 6) {
  const text = String(value ?? '')
  return text.length <= head + tail + 1 ? text : `${text.slice(0, head)}…${text.slice(-tail)}`
}

/** A `<code>` with a shortened id and the full one on hover. */
export const idCode = (value) => h('code', { title: String(value ?? '') }, short(value))

/** A definition list from `[label, value]` pairs (values: text or nodes; empty ones skipped). */
export function facts(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs.filter(([, value]) => value !== undefined && value !== null && value !== '').map(([label, value]) => h('div', {}, h('dt', {}, label), h('dd', {}, value))),
  )
}

/** Pretty JSON with light highlighting, built from text nodes. */
export function jsonBlock(value) {
  const text = JSON.stringify(value, null, 2) ?? 'undefined'
  const pre = h('pre', { class: 'json', tabindex: '0' })
  const token = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g
  let at = 0
  for (const match of text.matchAll(token)) {
    pre.append(text.slice(at, match.index))
    const [whole, string, colon, literal] = match
    const kind = string ? (colon ? 'k' : 's') : literal ? 'b' : 'n'
    pre.append(h('span', { class: kind }, string ?? whole))
    if (colon) pre.append(colon)
    at = match.index + whole.length
  }
  pre.append(text.slice(at))
  return pre
}

/** A collapsible JSON view. */
export const jsonDetails = (summary, value, open = false) => h('details', { class: 'json', open }, h('summary', {}, summary), jsonBlock(value))

/** An error as the page shows it: its code, message, status and hint. */
export function errorView(error, what = 'That did not work') {
  const code = error?.code ?? 'error'
  const message = error?.message || String(error)
  const hint = typeof error?.hint === 'string' && !message.includes(error.hint) ? error.hint : null
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('div', { class: 'result-title' }, what, h('span', { class: 'code-badge' }, code), error?.httpStatus ? h('span', { class: 'muted small' }, `HTTP ${error.httpStatus}`) : null),
    h('p', {}, message),
    hint ? h('p', { class: 'small' }, h('strong', {}, 'Hint: '), hint) : null,
  )
}

/** A success box: a title and any nodes below it. */
export const okView = (title, ...body) => h('div', { class: 'result ok' }, h('div', { class: 'result-title' }, title), ...body)

/** A neutral information box. */
export const noticeView = (title, ...body) => h('div', { class: 'notice' }, h('div', { class: 'result-title' }, title), ...body)

/**
 * Runs `work()` for `button`: a spinner and `aria-busy` (on the button and on
 * `out`) meanwhile, the button disabled; what `work` returns (nodes) replaces
 * `out`'s content; an error is shown in `out` with its code. `out.dataset.runs`
 * counts the finished actions.
 */
export async function act(button, out, work, { what } = {}) {
  if (button.getAttribute('aria-busy') === 'true') return
  button.setAttribute('aria-busy', 'true')
  button.disabled = true
  out.setAttribute('aria-busy', 'true')
  out.replaceChildren(h('p', { class: 'muted small', role: 'status' }, 'Working…'))
  try {
    const shown = await work()
    out.replaceChildren(...[shown ?? []].flat().filter(Boolean))
  } catch (error) {
    out.replaceChildren(errorView(error, what ? `${what} failed` : undefined))
  } finally {
    button.removeAttribute('aria-busy')
    button.disabled = false
    out.removeAttribute('aria-busy')
    out.dataset.runs = String(Number(out.dataset.runs ?? 0) + 1)
  }
}

/** A toggle button (`aria-pressed`) that calls `onToggle(pressed)`. */
export function toggle(label, pressedLabel, onToggle, pressed = false) {
  const button = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-pressed': String(pressed) }, pressed ? pressedLabel : label)
  button.addEventListener('click', () => {
    const now = button.getAttribute('aria-pressed') !== 'true'
    button.setAttribute('aria-pressed', String(now))
    button.textContent = now ? pressedLabel : label
    onToggle(now)
  })
  return button
}

/** A "Copy" button for `value` (says "Copied" for a moment; says nothing if the clipboard is refused). */
export function copyButton(value, label = 'Copy') {
  const button = h('button', { type: 'button', class: 'btn btn-ghost btn-small' }, label)
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(value)
      button.textContent = 'Copied'
    } catch {
      button.textContent = 'Copy unavailable'
    }
    setTimeout(() => (button.textContent = label), 1500)
  })
  return button
}

/**
 * Clones `<template id=templateId>` with ids made unique by `prefix`:
 * `data-id="x"` becomes `id="<prefix>-x"`, `data-for="x"` the label's target,
 * `data-name="x"` the radio group's name. Returns the fragment and a lookup
 * `part(name)` for `[data-id]`, `[data-slot]` and `[data-action]` elements.
 */
export function cloneTemplate(templateId, prefix) {
  const fragment = document.getElementById(templateId).content.cloneNode(true)
  for (const node of fragment.querySelectorAll('[data-id]')) node.id = `${prefix}-${node.dataset.id}`
  for (const node of fragment.querySelectorAll('[data-for]')) node.htmlFor = `${prefix}-${node.dataset.for}`
  for (const node of fragment.querySelectorAll('[data-name]')) node.name = `${prefix}-${node.dataset.name}`
  const parts = new Map()
  for (const node of fragment.querySelectorAll('[data-id], [data-slot], [data-action]')) {
    const name = node.dataset.id ?? node.dataset.slot ?? node.dataset.action
    if (!parts.has(name)) parts.set(name, node)
  }
  return { fragment, part: (name) => parts.get(name) }
}

/** Parses a decimal amount ("5", "1.50") into integer units with `decimals` places, or returns null. */
export function toUnits(text, decimals) {
  const match = /^\s*(\d+)(?:\.(\d+))?\s*$/.exec(String(text))
  if (!match || (match[2] ?? '').length > decimals) return null
  return BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt((match[2] ?? '').padEnd(decimals, '0') || '0')
}

/** Integer units with `decimals` places as a decimal string ("1000000", 6 -> "1.00"). */
export function fromUnits(units, decimals) {
  const value = BigInt(units)
  const scale = 10n ** BigInt(decimals)
  const fraction = (value % scale).toString().padStart(decimals, '0').replace(/0+$/, '').padEnd(2, '0')
  return `${value / scale}.${fraction}`
}
