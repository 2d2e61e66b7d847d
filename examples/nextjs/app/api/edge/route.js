import { paidRoute } from '../gate.js'

export const runtime = 'edge'
export const POST = paidRoute('edge')
