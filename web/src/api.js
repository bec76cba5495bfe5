// The /v1 API as the dashboard calls it: the signed-in token (sessionStorage only) sent as
// `Authorization: Bearer`, errors thrown as ApiError with the API's {code, message}.
const KEY = 'fastgpu.token';

export function savedToken() {
  return sessionStorage.getItem(KEY) || '';
}
export function saveToken(token) {
  sessionStorage.setItem(KEY, token);
}
export function forgetToken() {
  sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
  }
}

function headers(token, extra) {
  return { Authorization: `Bearer ${token}`, Accept: 'application/json', ...extra };
}

async function fail(res) {
  let code = '';
  let message = `HTTP ${res.status}`;
  try {
    const body = await res.json();
    code = body.code || '';
    message = body.message || message;
  } catch (e) {
    // not JSON: keep the status
  }
  return new ApiError(res.status, code, message);
}

// GET or POST `path` (with a query object) and answer its JSON.
export async function call(method, path, { query, body, signal, token } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const res = await fetch(url, {
    method,
    headers: headers(token || savedToken(), body ? { 'Content-Type': 'application/json' } : {}),
    body: body ? JSON.stringify(body) : undefined,
    signal,
  });
  if (!res.ok) throw await fail(res);
  return res.json();
}

export const get = (path, opts) => call('GET', path, opts);
export const post = (path, body, opts) => call('POST', path, { ...opts, body: body || {} });

// The newest `max` jobs the filters name, kept up to date cheaply. The API lists jobs
// oldest first, a page of 1,000 at a time, with a cursor that names a place in the order of
// creation (it stays valid as jobs come and change). The first load reads every page once;
// each later one reads again only the pages that hold the newest `max` jobs and any new
// page after them.
export class JobWindow {
  constructor(filters, max = 5000) {
    this.filters = filters;
    this.max = max;
    this.cursors = ['']; // cursors[i] starts page i
    this.pages = [];
  }

  async load(signal) {
    const keep = Math.ceil(this.max / 1000) + 1;
    let i = Math.max(0, this.pages.length - keep);
    for (;;) {
      const page = await get('/v1/jobs', {
        query: { ...this.filters, limit: 1000, cursor: this.cursors[i] },
        signal,
      });
      this.pages[i] = page.jobs;
      if (!page.next_cursor) break;
      this.cursors[++i] = page.next_cursor;
    }
    this.pages.length = i + 1;
    this.cursors.length = i + 1;
    for (let k = 0; k < this.pages.length - keep; k++) this.pages[k] = null; // read no more
    const jobs = [];
    for (let k = Math.max(0, this.pages.length - keep); k < this.pages.length; k++) {
      jobs.push(...this.pages[k]);
    }
    return jobs.slice(-this.max);
  }
}

// Follows a replica's log from `offset`, calling onData(text) as bytes arrive, until the
// log is done or `signal` aborts. Streams with ?follow=true (a chunked text/plain answer
// read through a ReadableStream); a plain JSON answer (the log is done, or the server
// streams as many logs as it may) is polled from its next_offset.
export async function followLog(jobId, replica, onData, signal, onState) {
  let offset = 0;
  const path = `/v1/jobs/${encodeURIComponent(jobId)}/logs`;
  while (!signal.aborted) {
    const url = new URL(path, location.origin);
    url.searchParams.set('replica', replica);
    url.searchParams.set('offset', offset);
    url.searchParams.set('follow', 'true');
    const res = await fetch(url, { headers: headers(savedToken()), signal });
    if (!res.ok) throw await fail(res);
    const type = res.headers.get('content-type') || '';
    if (type.startsWith('application/json')) {
      const body = await res.json();
      if (body.data) onData(body.data);
      offset = body.next_offset;
      if (onState) onState(body);
      if (body.done) return;
      await sleep(1000, signal);
      continue;
    }
    if (onState) onState({ streaming: true });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      offset += value.byteLength;
      const text = decoder.decode(value, { stream: true });
      if (text) onData(text);
    }
    const rest = decoder.decode();
    if (rest) onData(rest);
    // The stream ended: the log is done, or the stream's lifetime passed. The next round
    // asks from the bytes counted; a done log answers plain JSON there.
  }
}

export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    if (signal) signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}
