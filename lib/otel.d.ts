// Types of `memwatch-rs/otel`.

/** What `register()` uses of an OpenTelemetry `MeterProvider`. */
export interface MeterProviderLike {
  getMeter(name: string, version?: string, options?: any): any
}

export interface OtelOptions {
  /** The meter provider; default: `metrics.getMeterProvider()` of `@opentelemetry/api`. */
  meterProvider?: MeterProviderLike
  /**
   * Bucket boundaries advised for `v8js.gc.duration`, seconds, ascending:
   * any of the bounds memwatch-rs keeps (1-2-5 steps from 0.0001 to 10).
   * Default `[0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]`.
   */
  buckets?: readonly number[]
}

export interface OtelHandle {
  /** Stops reporting and stops holding the leak detector. Idempotent. */
  unregister(): void
}

/**
 * Creates memwatch-rs's instruments on the meter `memwatch-rs` of the meter
 * provider, read when the SDK collects, and keeps the leak detector running
 * until the handle is unregistered. A second registration with the same
 * provider throws an `Error`; bad options a `TypeError`/`RangeError`.
 */
export declare function register(options?: OtelOptions): OtelHandle
