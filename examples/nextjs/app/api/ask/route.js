import { paidRoute } from '../gate.js'

export const POST = paidRoute('nodejs')
