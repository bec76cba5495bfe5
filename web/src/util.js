// Small helpers shared by the pages: formatting, polling, the hash route.
import { useEffect, useRef, useState } from 'preact/hooks';

export function fmtTime(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(
    d.getHours()
  )}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtAgo(ms, now = Date.now()) {
  if (!ms) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

export function fmtGpus(milli) {
  const g = milli / 1000;
  return Number.isInteger(g) ? String(g) : g.toFixed(2).replace(/0$/, '');
}

// A job's GPU ask per replica, as the CLI shows it: "0.5 GPU (mps)", "2 GPU", "CPU only".
export function fmtShape(shape) {
  if (!shape || !shape.gpu_count) return 'CPU only';
  const per = shape.gpu_milli && shape.gpu_milli < 1000 ? shape.gpu_milli / 1000 : 1;
  const total = per * shape.gpu_count;
  const iso = shape.isolation && shape.isolation !== 'default' ? ` (${shape.isolation})` : '';
  return `${total} GPU${iso}`;
}

export const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

// Runs `load` now and every `ms` (or `ms(data)`; 0 stops) while the page is visible, four
// times less often while it is hidden; returns [data, error, reload].
export function usePoll(load, ms, deps) {
  const [state, setState] = useState({ data: null, error: null });
  const tick = useRef(0);
  const reload = useRef(() => {});
  useEffect(() => {
    let stopped = false;
    let timer = null;
    const controller = new AbortController();
    const run = async () => {
      clearTimeout(timer);
      const mine = ++tick.current;
      let every = typeof ms === 'function' ? 0 : ms;
      try {
        const data = await load(controller.signal);
        if (!stopped && mine === tick.current) setState({ data, error: null });
        if (typeof ms === 'function') every = ms(data);
      } catch (e) {
        if (!stopped && e.name !== 'AbortError') setState((s) => ({ data: s.data, error: e }));
        if (typeof ms === 'function') every = 5000; // retry
      }
      if (!stopped && every) timer = setTimeout(run, document.hidden ? every * 4 : every);
    };
    reload.current = run;
    run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
    };
  }, deps);
  return [state.data, state.error, () => reload.current()];
}

// The location hash as a path: "#/jobs/job-1" -> ["jobs", "job-1"].
export function useRoute() {
  const parse = () =>
    (location.hash.replace(/^#\/?/, '') || 'jobs').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
