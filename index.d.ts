// Types of memwatch-rs's public API. The native payload types come from the
// generated `binding.d.ts`, whose doc comments are the Rust ones.

import { EventEmitter } from 'node:events'
import type { Stats as NativeStats } from './binding'

declare namespace memwatch {
  /**
   * Heap statistics after a full (mark-sweep-compact) GC: memwatch's fields,
   * @airbnb/node-memwatch's fields and units, and V8's newer heap figures.
   * Bytes unless said.
   */
  type Stats = NativeStats

  /** A suspected leak: the base (used heap after full GCs) kept growing. */
  interface LeakInfo {
    /** When the base was last at its pre-growth level. */
    start: Date
    /** The full GC that confirmed the growth. */
    end: Date
    /** Bytes the base grew from `start` to `end` (never negative). */
    growth: number
    /** e.g. `heap growth over 5 consecutive GCs (20s) - 11.67 mb/hr`. */
    reason: string
  }

  /** The listener type of each event memwatch emits. */
  type Listener<E> = E extends 'stats'
    ? (stats: Stats) => void
    : E extends 'leak'
      ? (info: LeakInfo) => void
      : (...args: any[]) => void

  /** Leak detector and probe settings; see README for each default and range. */
  type Config = import('./binding').Config & { rule: 'trend' | 'classic' }

  /** Which backend serves this isolate. */
  type Backend = 'v8' | 'fallback'

  interface MemWatch extends EventEmitter {
    /**
     * `'stats'`: after every full GC (not those a HeapDiff causes).
     * `'leak'`: when the leak detector sees sustained base growth.
     */
    on<E extends string | symbol>(event: E, listener: Listener<E>): this
    once<E extends string | symbol>(event: E, listener: Listener<E>): this
    addListener<E extends string | symbol>(event: E, listener: Listener<E>): this
    prependListener<E extends string | symbol>(event: E, listener: Listener<E>): this
    prependOnceListener<E extends string | symbol>(event: E, listener: Listener<E>): this
    off<E extends string | symbol>(event: E, listener: Listener<E>): this
    removeListener<E extends string | symbol>(event: E, listener: Listener<E>): this
    emit<E extends string | symbol>(event: E, ...args: Parameters<Listener<E>>): boolean

    /**
     * Runs a full, compacting GC now, synchronously, without `--expose-gc`.
     * Returns that GC's stats and causes exactly one `stats` event on the next
     * loop turn (none when called from inside a `stats` listener).
     */
    gc(): Stats

    /**
     * Reads (no argument) or changes the leak detector's settings; returns the
     * settings in force. Unknown options and wrong types throw `TypeError`,
     * out-of-range values `RangeError`; a rejected call changes nothing.
     */
    configure(options?: Partial<Config>): Config

    /** `'v8'`: V8 GC hooks and heap profiler; `'fallback'`: N-API and JS only. */
    readonly backend: Backend
  }
}

declare const memwatch: memwatch.MemWatch
export = memwatch
