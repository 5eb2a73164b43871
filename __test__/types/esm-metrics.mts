// The exporters' entry points from ESM.
import { metrics } from 'memwatch-rs'
import { register } from 'memwatch-rs/prometheus'
import * as otel from 'memwatch-rs/otel'
import { Registry } from 'prom-client'

const sum: number = metrics().gcPauses.scavenge.sum
void sum
register(new Registry()).unregister()
otel.register().unregister()
