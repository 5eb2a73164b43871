'use strict'

// How error messages name a value the caller passed. The native side words
// its messages the same way (src/api/describe.rs).

const SHOWN_CHARS = 40

function bounded(text) {
  const chars = Array.from(text)
  return chars.length > SHOWN_CHARS ? chars.slice(0, SHOWN_CHARS).join('') + '…' : text
}

/** `null`, `undefined`, `number 1.5`, `the string "abc"`, `bigint 3n`, `an array`, `an object`, `a function`, `a symbol`. */
function describe(value) {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (Array.isArray(value)) return 'an array'
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(bounded(value))}`
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`
    case 'bigint':
      return `bigint ${bounded(String(value))}n`
    case 'object':
      return 'an object'
    default:
      return `a ${typeof value}`
  }
}

/** The kind of value only: `null`, `undefined`, `an object`, `a number`, … */
function kindOf(value) {
  if (value === null || value === undefined) return String(value)
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

module.exports = { describe, kindOf }
