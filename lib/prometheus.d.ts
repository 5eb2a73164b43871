// Types of `memwatch-rs/prometheus`.

/** What `register()` uses of a prom-client `Registry` (any prom-client 15 registry has it). */
export interface RegistryLike {
  registerMetric(metric: any): void
  getSingleMetric(name: string): unknown
  removeSingleMetric(name: string): void
}

export interface PrometheusOptions {
  /** Prepended to every metric name (e.g. `'myapp_'`). Default `''`. */
  prefix?: string
  /** Labels added to every series, e.g. `{ service: 'api' }`. Not `kind` or `le`. */
  labels?: Record<string, string | number>
  /**
   * Upper bounds of `memwatch_gc_pause_seconds`' buckets, seconds, ascending:
   * any of the bounds memwatch-rs keeps (1-2-5 steps from 0.0001 to 10).
   * Default `[0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]`.
   */
  buckets?: readonly number[]
}

export interface PrometheusHandle {
  /** The names of the metrics registered. */
  readonly metricNames: readonly string[]
  /** Removes the metrics from the registry and stops holding the leak detector. Idempotent. */
  unregister(): void
}

/**
 * Registers memwatch-rs's metrics in `registry` (prom-client's default
 * registry when omitted), read at scrape time, and keeps the leak detector
 * running until the handle is unregistered. A second registration in the
 * same registry throws an `Error`; bad options a `TypeError`/`RangeError`.
 */
export declare function register(registry?: RegistryLike, options?: PrometheusOptions): PrometheusHandle
