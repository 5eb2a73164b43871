import memwatch, { trackGC } from 'memwatch-rs'

const cancel: () => void = trackGC({}, () => {})
cancel()
void [memwatch.trackGC === trackGC]
