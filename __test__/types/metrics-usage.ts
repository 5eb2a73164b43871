// The exporters' entry points type-check with the real peers' types.
import memwatch = require('../..')
import { register as registerPrometheus } from 'memwatch-rs/prometheus'
import { register as registerOtel } from 'memwatch-rs/otel'
import { Registry, register as defaultRegistry } from 'prom-client'
import { metrics } from '@opentelemetry/api'
import { MeterProvider } from '@opentelemetry/sdk-metrics'

const m: memwatch.Metrics = memwatch.metrics()
const limit: number = m.heapSizeLimit
const bounds: number[] = m.pauseBounds
const scavenges: memwatch.PauseHistogram = m.gcPauses.scavenge
const fullSum: number = m.gcPauses.markSweepCompact.sum
const rate: number | undefined = m.leak.rate
void [limit, bounds, scavenges, fullSum, rate]
// @ts-expect-error metrics() takes no options
memwatch.metrics({})

const handle = registerPrometheus(new Registry(), { prefix: 'app_', labels: { service: 'api', shard: 3 }, buckets: [0.001, 0.01, 0.1, 1] })
const names: readonly string[] = handle.metricNames
void names
handle.unregister()
registerPrometheus().unregister()
registerPrometheus(defaultRegistry, {}).unregister()
// @ts-expect-error labels are strings or numbers
registerPrometheus(new Registry(), { labels: { up: true } })
// @ts-expect-error an unknown option
registerPrometheus(new Registry(), { prefx: 'app_' })

registerOtel({ meterProvider: new MeterProvider() }).unregister()
registerOtel({ meterProvider: metrics.getMeterProvider(), buckets: [0.01, 0.1, 1, 10] }).unregister()
registerOtel().unregister()
// @ts-expect-error the provider is an option, not the argument
registerOtel(new MeterProvider())
