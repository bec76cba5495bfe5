// Pool over time: allocated and free GPUs, fragmentation, the pending queue and the share
// of the capacity allocated, from GET /v1/pool/history (sampled by the control plane).
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import uPlot from 'uplot';
import { get } from './api.js';
import { fmtGpus, fmtTime, usePoll } from './util.js';

const html = htm.bind(h);
const WINDOWS = [
  [15 * 60e3, 'last 15 minutes'],
  [60 * 60e3, 'last hour'],
  [6 * 3600e3, 'last 6 hours'],
  [24 * 3600e3, 'last 24 hours'],
];

// One uPlot chart; `series` are [label, colour] pairs for data[1..].
function Chart({ title, data, series, yLabel }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const width = Math.max(300, (box.current.clientWidth || 600) - 8);
    plot.current = new uPlot(
      {
        title,
        width,
        height: 220,
        // From 0, so that a flat line reads as the level it is.
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [{}, { label: yLabel, size: 60 }],
        series: [{}, ...series.map(([label, stroke, fill]) => ({ label, stroke, fill, width: 2 }))],
      },
      data,
      box.current
    );
    const resize = () => plot.current.setSize({ width: Math.max(300, box.current.clientWidth - 8), height: 220 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.current.destroy();
    };
  }, []);
  useEffect(() => {
    if (plot.current) plot.current.setData(data);
  }, [data]);
  return html`<figure class="chart" ref=${box} aria-label=${title}></figure>`;
}

export function PoolPage() {
  const [windowMs, setWindowMs] = useState(WINDOWS[1][0]);
  const [hist, error] = usePoll(
    (signal) => get('/v1/pool/history', { query: { since: Date.now() - windowMs }, signal }),
    5000,
    [windowMs]
  );
  const samples = hist ? hist.samples : [];
  const x = samples.map((s) => s.at / 1000);
  const col = (f) => samples.map(f);
  const last = samples[samples.length - 1];
  return html`<section aria-labelledby="pool-title">
    <h1 id="pool-title">Pool over time</h1>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label>Period
        <select value=${windowMs} onChange=${(e) => setWindowMs(Number(e.target.value))}>
          ${WINDOWS.map(([ms, label]) => html`<option value=${ms}>${label}</option>`)}
        </select>
      </label>
    </form>
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    ${hist &&
    html`<p class="help">A sample every ${hist.interval_ms / 1000} s, kept in the control plane's
      memory (the latest ${hist.capacity}). ${samples.length} in this period.</p>`}
    ${hist && samples.length === 0 && html`<p role="status">No samples yet: the first comes after the scheduler measured the pool.</p>`}
    ${last &&
    html`<table class="latest">
      <caption>Latest sample (${fmtTime(last.at)})</caption>
      <thead><tr>
        <th scope="col">Capacity (GPUs)</th><th scope="col">Allocated</th><th scope="col">Free</th>
        <th scope="col">Allocated share</th><th scope="col">Fragmented free</th>
        <th scope="col">Pending jobs</th><th scope="col">Longest wait</th>
      </tr></thead>
      <tbody><tr>
        <td>${fmtGpus(last.capacity_milli)}</td><td>${fmtGpus(last.allocated_milli)}</td>
        <td>${fmtGpus(last.free_milli)}</td>
        <td>${last.capacity_milli ? Math.round((100 * last.allocated_milli) / last.capacity_milli) : 0}%</td>
        <td>${last.fragmentation_ratio == null ? 'not measured yet' : `${Math.round(100 * last.fragmentation_ratio)}%`}</td>
        <td>${last.pending_jobs}</td><td>${Math.round(last.oldest_pending_seconds)} s</td>
      </tr></tbody>
    </table>`}
    ${samples.length > 0 &&
    html`<div class="charts">
      <${Chart} title="GPUs: allocated and free" yLabel="GPUs"
        data=${[x, col((s) => s.allocated_milli / 1000), col((s) => s.free_milli / 1000), col((s) => s.capacity_milli / 1000)]}
        series=${[['allocated', '#1f5fbf', 'rgba(31,95,191,0.15)'], ['free', '#2e8540'], ['capacity', '#666']]} />
      <${Chart} title="Allocated share of the capacity" yLabel="%"
        data=${[x, col((s) => (s.capacity_milli ? (100 * s.allocated_milli) / s.capacity_milli : 0))]}
        series=${[['allocated %', '#1f5fbf']]} />
      <${Chart} title="Fragmentation: free capacity the workload cannot use" yLabel="% of free"
        data=${[x, col((s) => (s.fragmentation_ratio == null ? null : 100 * s.fragmentation_ratio))]}
        series=${[['fragmented %', '#b35c00']]} />
      <${Chart} title="Pending queue" yLabel="jobs"
        data=${[x, col((s) => s.pending_jobs)]} series=${[['pending jobs', '#8a2be2']]} />
    </div>`}
    <p class="help">GPU compute utilisation is not reported by the agents; the charts show what
      the scheduler allocates.</p>
  </section>`;
}
