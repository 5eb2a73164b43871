'use strict'

// Runs in the browser, inlined into the report by lib/cli/report.js: renders
// the embedded data with uPlot. For tests and curious readers,
// window.memwatchReport = { data, charts: [{ process, kind, points, plot }] }
// and each chart's element carries data-points (points plotted).

/* global uPlot, format, window, document */
;(function () {
  const data = JSON.parse(document.getElementById('report-data').textContent)
  const charts = []
  window.memwatchReport = { data, charts }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag)
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v
      else if (k.startsWith('data-')) e.setAttribute(k, v)
      else e[k] = v
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c)
    return e
  }
  const when = (ms) => (Number.isFinite(ms) ? new Date(ms).toLocaleString() : '–')
  const count = (n) => (Number.isFinite(n) ? n.toLocaleString('en-US') : '–')
  const signed = (n, f) => (n > 0 ? '+' : '') + f(n)

  // --- the run -------------------------------------------------------------
  const ended = data.exit ? (data.exit.signal ? `ended by ${data.exit.signal}` : `exited with code ${data.exit.code}`) : 'still running'
  const span = data.exit && data.exit.t ? data.exit.t - data.started : data.written - data.started
  document.getElementById('meta').append(
    el('code', {}, data.command.join(' ')),
    ` · started ${when(data.started)} · ${format.duration(span)} · ${ended} · report written ${when(data.written)} (${data.reason})`,
  )

  const main = document.getElementById('processes')
  if (!data.processes.length) main.append(el('p', { class: 'note' }, 'No Node process of the program connected: nothing was watched.'))

  data.processes.forEach((p, index) => main.append(processSection(p, index)))

  function processSection(p, index) {
    const s = p.summary
    const section = el('section', { 'data-process': String(index) })
    const what = p.main === false ? `worker thread ${p.thread} of pid ${p.pid}` : `pid ${p.pid}`
    section.append(el('h2', {}, p.label))
    section.append(
      el('p', { class: 'meta' }, `${what} · ${(p.argv || []).join(' ')} · Node ${p.node || '?'} · backend ${p.backend || '?'}` + (p.exit_code !== null ? ` · exit code ${p.exit_code}` : '')),
    )
    if (p.error) section.append(el('p', { class: 'error' }, `memwatch-rs did not load here: ${p.error}`))
    const card = (value, label, alert) => el('div', { class: alert ? 'card alert' : 'card' }, el('b', {}, value), el('span', {}, label))
    section.append(
      el(
        'div',
        { class: 'cards' },
        card(count(s.gcs), 'full GCs'),
        card(s.gcs ? `${format.bytes(s.first_base)} → ${format.bytes(s.last_base)}` : '–', 'base, first → last'),
        card(s.gcs ? signed(s.floor_growth, format.bytes) : '–', 'floor growth'),
        card(s.gcs ? format.duration(s.max_pause_ms) : '–', 'longest full-GC pause'),
        card(s.heap_limit ? format.bytes(s.heap_limit) : '–', 'heap limit'),
        card(count(s.leaks), 'leak events', s.leaks > 0),
      ),
    )
    if (!p.gcs.length) {
      section.append(el('p', { class: 'note' }, 'No full GC recorded (yet): nothing to plot.'))
    } else {
      section.append(el('h3', {}, 'Heap after each full GC'))
      section.append(
        el('p', { class: 'note' }, 'base: used heap right after the GC · floor: the lowest base from that GC on (memory never freed lifts it) · click a legend entry to show or hide it (the heap limit is hidden at first).'),
      )
      const heap = el('div', { class: 'chart', 'data-chart': 'heap', 'data-process': String(index) })
      section.append(heap)
      section.append(el('h3', {}, 'Full-GC pauses'))
      const pauses = el('div', { class: 'chart', 'data-chart': 'pauses', 'data-process': String(index) })
      section.append(pauses)
      requestAnimationFrame(() => {
        plotHeap(heap, p, index)
        plotPauses(pauses, p, index)
      })
    }
    if (p.leaks.length) {
      section.append(el('h3', {}, `Leak events (${p.leaks.length})`))
      for (const l of p.leaks) section.append(leakBlock(l))
    }
    if (p.sampling && p.sampling.error) {
      section.append(el('h3', {}, 'Allocation sampling'), el('p', { class: 'note' }, `not available in this process: ${p.sampling.error}`))
    }
    if (p.census) section.append(censusBlock(p.census))
    return section
  }

  /**
   * A site's next callers by name; when the allocating frame is V8's own (a
   * builtin, no script), the first caller with a script also by its place.
   */
  function callers(frames) {
    const placed = frames[0].script ? null : frames.find((f) => f.script)
    return frames
      .slice(1, 4)
      .map((f) => (f === placed ? format.frame(f) : f.function || '(anonymous)'))
      .join(' ← ')
  }


  function leakBlock(l) {
    const lines = [el('p', {}, el('b', {}, when(l.end || l.t)), ' · ', l.reason || 'leak')]
    const facts = []
    if (Number.isFinite(l.growth)) facts.push(`grew ${format.bytes(l.growth)} since ${when(l.start)}`)
    if (Number.isFinite(l.rate)) {
      const ci = Number.isFinite(l.rate_low) && Number.isFinite(l.rate_high) ? ` (${format.rate(l.rate_low)} – ${format.rate(l.rate_high)})` : ''
      facts.push(`rate ${format.rate(l.rate)}${ci}`)
    }
    if (Number.isFinite(l.heap_limit) && l.heap_limit > 0) facts.push(`heap limit ${format.bytes(l.heap_limit)}`)
    if (Number.isFinite(l.limit_in_ms)) facts.push(`reaches it in about ${format.duration(l.limit_in_ms)}`)
    if (facts.length) lines.push(el('p', {}, facts.join(' · ')))
    if (Array.isArray(l.suspects) && l.suspects.length) {
      lines.push(
        el(
          'div',
          { class: 'table' },
          el(
            'table',
            {},
            el('thead', {}, el('tr', {}, el('th', {}, 'suspect'), el('th', { class: 'num' }, 'objects'), el('th', { class: 'num' }, 'size'))),
            el(
              'tbody',
              {},
              l.suspects.map((x) =>
                el('tr', {}, el('td', { class: 'mono' }, String(x.what)), el('td', { class: 'num' }, count(x.count)), el('td', { class: 'num' }, format.bytes(x.size_bytes))),
              ),
            ),
          ),
        ),
      )
    }
    if (!(Array.isArray(l.suspects) && l.suspects.length) && typeof l.suspects_skipped === 'string') {
      lines.push(el('p', {}, `No suspects: ${format.suspectsSkipped(l.suspects_skipped)}`))
    }
    const sites = format.grownSites(l.sites)
    if (sites.length) {
      lines.push(
        el('p', {}, 'Allocated by (live sampled memory that grew):'),
        el(
          'div',
          { class: 'table' },
          el(
            'table',
            { class: 'sites' },
            el('thead', {}, el('tr', {}, el('th', {}, 'allocation site, then its callers'), el('th', { class: 'num' }, 'grew by'))),
            el(
              'tbody',
              {},
              sites.map((x) =>
                el(
                  'tr',
                  {},
                  el('td', { class: 'mono' }, format.frame(x.frames[0]), x.frames.length > 1 ? el('span', { class: 'note' }, ` ← ${callers(x.frames)}`) : null),
                  el('td', { class: 'num' }, format.bytes(x.bytes)),
                ),
              ),
            ),
          ),
        ),
      )
    }
    return el('div', { class: 'leak' }, lines)
  }

  function censusBlock(c) {
    if (c.error) return el('div', {}, el('h3', {}, 'Heap census'), el('p', { class: 'note' }, `not available in this process: ${c.error}`))
    const rows = c.groups.slice(0, 50)
    return el(
      'div',
      {},
      el('h3', {}, 'Heap census: start → last report'),
      el('p', { class: 'note' }, `${count(c.start && c.start.objects)} → ${count(c.now && c.now.objects)} objects, ${format.bytes(c.start && c.start.size_bytes)} → ${format.bytes(c.now && c.now.size_bytes)}` + (c.groups.length > rows.length ? ` · the ${rows.length} largest changes of ${c.groups.length}` : '')),
      el(
        'div',
        { class: 'table' },
        el(
          'table',
          {},
          el('thead', {}, el('tr', {}, ['what', 'objects', 'change', 'size', 'change'].map((h, i) => el('th', { class: i ? 'num' : '' }, h)))),
          el(
            'tbody',
            {},
            rows.map((g) =>
              el(
                'tr',
                {},
                el('td', { class: 'mono' }, g.what),
                el('td', { class: 'num' }, count(g.count_now)),
                el('td', { class: 'num' }, signed(g.count_change, count)),
                el('td', { class: 'num' }, format.bytes(g.bytes_now)),
                el('td', { class: 'num' }, signed(g.bytes_change, format.bytes)),
              ),
            ),
          ),
        ),
      ),
    )
  }

  // --- plots -------------------------------------------------------------
  const height = () => (window.innerWidth < 600 ? 220 : 300)
  const bytesAxis = { size: 64, values: (u, ticks) => ticks.map((v) => format.bytes(v)) }

  function plotHeap(target, p, index) {
    const xs = p.gcs.map((g) => g.t / 1000)
    // Each leak event as a marker on the GC that confirmed it.
    const marks = xs.map(() => null)
    for (const l of p.leaks) {
      const at = l.end || l.t
      let best = 0
      p.gcs.forEach((g, i) => {
        if (Math.abs(g.t - at) < Math.abs(p.gcs[best].t - at)) best = i
      })
      marks[best] = p.gcs[best].base
    }
    const opts = {
      width: target.clientWidth,
      height: height(),
      scales: { x: { time: true } },
      axes: [{}, bytesAxis],
      series: [
        { label: 'time' },
        { label: 'base', stroke: '#1f6feb', width: 1.5, points: { show: xs.length < 400, size: 5 }, value: (u, v) => format.bytes(v) },
        { label: 'floor', stroke: '#2da44e', width: 2, points: { show: false }, value: (u, v) => format.bytes(v) },
        { label: 'leak event', stroke: '#cf222e', fill: '#cf222e', width: 0, paths: () => null, points: { show: true, size: 12, stroke: '#cf222e', fill: '#cf222e' }, value: (u, v) => (v === null ? '–' : format.bytes(v)) },
        { label: 'heap limit', stroke: '#8250df', dash: [6, 4], width: 1, show: false, points: { show: false }, value: (u, v) => format.bytes(v) },
      ],
    }
    const series = [xs, p.gcs.map((g) => g.base), p.gcs.map((g) => g.floor), marks, p.gcs.map((g) => g.heap_limit)]
    addPlot(target, opts, series, index, 'heap')
  }

  function plotPauses(target, p, index) {
    const xs = p.gcs.map((g) => g.t / 1000)
    const opts = {
      width: target.clientWidth,
      height: Math.round(height() * 0.6),
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [{}, { size: 64, values: (u, ticks) => ticks.map((v) => format.duration(v)) }],
      series: [
        { label: 'time' },
        { label: 'pause', stroke: '#9a6700', width: 0, paths: () => null, points: { show: true, size: 6, stroke: '#9a6700', fill: '#9a6700' }, value: (u, v) => format.duration(v) },
      ],
    }
    addPlot(target, opts, [xs, p.gcs.map((g) => g.pause_ms)], index, 'pauses')
  }

  function addPlot(target, opts, series, index, kind) {
    const plot = new uPlot(opts, series, target)
    target.setAttribute('data-points', String(plot.data[0].length))
    charts.push({ process: index, kind, points: plot.data[0].length, plot })
  }

  let resizing = null
  window.addEventListener('resize', () => {
    clearTimeout(resizing)
    resizing = setTimeout(() => {
      for (const c of charts) {
        const box = c.plot.root.parentElement
        const h = c.kind === 'heap' ? height() : Math.round(height() * 0.6)
        c.plot.setSize({ width: box.clientWidth, height: h })
      }
    }, 100)
  })
})()
