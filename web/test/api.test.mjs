// The dashboard's API client in Node (node --test): JobWindow against a fake /v1/jobs that
// pages by a cursor as the control plane does, and followLog against a fake log stream.
// Run by ctest as web_unit_test.
import assert from 'node:assert/strict';
import { test } from 'node:test';

globalThis.location = { origin: 'http://fastgpu.test' };
globalThis.sessionStorage = { getItem: () => 'tok', setItem() {}, removeItem() {} };
const { JobWindow, followLog } = await import('../src/api.js');

// A control plane holding `jobs` (seq order); records the cursors asked for.
function fakeJobs(jobs) {
  const asked = [];
  globalThis.fetch = async (url, init) => {
    assert.equal(init.headers.Authorization, 'Bearer tok');
    const u = new URL(url);
    assert.equal(u.pathname, '/v1/jobs');
    const cursor = u.searchParams.get('cursor') || '';
    asked.push(cursor);
    const state = u.searchParams.get('state');
    const limit = Number(u.searchParams.get('limit'));
    const after = cursor ? Number(cursor) : -1;
    const rest = jobs.filter((j) => j.seq > after && (!state || j.state === state));
    const page = rest.slice(0, limit);
    const body = {
      jobs: page,
      next_cursor: rest.length > limit ? String(page[page.length - 1].seq) : '',
    };
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  };
  return asked;
}

const make = (n, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ id: `job-${from + i}`, seq: from + i, state: 'pending' }));

test('JobWindow lists the newest jobs and then reads only the pages that hold them', async () => {
  const jobs = make(12345);
  const asked = fakeJobs(jobs);
  const w = new JobWindow({ state: '' }, 5000);
  let got = await w.load();
  assert.equal(got.length, 5000);
  assert.equal(got[0].id, 'job-7345');
  assert.equal(got[4999].id, 'job-12344');
  assert.equal(asked.length, 13); // every page once

  asked.length = 0;
  jobs.push(...make(1500, 12345)); // new jobs arrive
  jobs[12000].state = 'running'; // and one in the window changes
  got = await w.load();
  assert.equal(got[4999].id, 'job-13844');
  assert.equal(got.find((j) => j.id === 'job-12000').state, 'running');
  assert.ok(asked.length <= 8, `pages read again: ${asked.length}`);
  assert.notEqual(asked[0], ''); // not from the start
});

test('JobWindow with fewer jobs than its size lists them all', async () => {
  fakeJobs(make(3));
  const got = await new JobWindow({}, 5000).load();
  assert.deepEqual(
    got.map((j) => j.id),
    ['job-0', 'job-1', 'job-2']
  );
});

test('followLog reads a chunked stream, then learns from a plain answer that the log is done', async () => {
  const calls = [];
  const enc = new TextEncoder();
  globalThis.fetch = async (url) => {
    const u = new URL(url);
    calls.push(`${u.pathname} offset=${u.searchParams.get('offset')} follow=${u.searchParams.get('follow')}`);
    if (calls.length === 1) {
      // A stream that ends early (its lifetime passed): two chunks, one splitting a character.
      const bytes = enc.encode('héllo\n');
      const stream = new ReadableStream({
        start(c) {
          c.enqueue(bytes.slice(0, 2));
          c.enqueue(bytes.slice(2));
          c.close();
        },
      });
      return new Response(stream, { headers: { 'content-type': 'text/plain' } });
    }
    const body = { data: 'bye\n', next_offset: 11, done: true };
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  };
  let text = '';
  const states = [];
  await followLog('job-1', 0, (t) => (text += t), new AbortController().signal, (s) => states.push(s));
  assert.equal(text, 'héllo\nbye\n');
  assert.deepEqual(calls, [
    '/v1/jobs/job-1/logs offset=0 follow=true',
    '/v1/jobs/job-1/logs offset=7 follow=true', // 7 bytes of UTF-8 were counted
  ]);
  assert.equal(states[states.length - 1].done, true);
});
