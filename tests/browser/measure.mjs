// Measures the dashboard on a loaded pool (not run by ctest; docs/benchmarks.md):
//   - page load: a loopback `fastgpu server` with 100 nodes registered through the agent
//     protocol (8 simulated H100-80GB each, heartbeating every 2 s) and 1,000 submitted
//     jobs; the time from navigation until the jobs page lists 1,000 jobs, and until the
//     nodes page shows 100 nodes with their slices, in Debian's Chromium (median of 3, a
//     fresh browser profile each, so nothing is cached);
//   - the API's latency under load: `fastgpu_loadgen --mode submit` (64 clients, 10 s)
//     without a browser, then with two dashboard tabs polling (jobs and nodes pages).
//
//   node tests/browser/measure.mjs --fastgpu build/fastgpu --loadgen build/bin/fastgpu_loadgen
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { apiCall } from './api.mjs';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const fastgpu = arg('--fastgpu', 'build/fastgpu');
const loadgen = arg('--loadgen', 'build/bin/fastgpu_loadgen');
const NODES = Number(arg('--nodes', 100));
const JOBS = Number(arg('--jobs', 1000));
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const data = mkdtempSync(join(tmpdir(), 'fastgpu-measure-'));
const server = spawn(fastgpu, ['--log-level', 'warn', 'server', '--data-dir', data, '--listen', '127.0.0.1:0'], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
let out = '';
server.stdout.on('data', (b) => (out += b));
server.stderr.on('data', (b) => (out += b));
let url = '';
for (let i = 0; i < 300 && !url; i++) {
  const m = out.match(/^listening on (http:\/\/\S+)/m);
  if (m) url = m[1].replace(/\/$/, '');
  else await new Promise((r) => setTimeout(r, 100));
}
if (!url) throw new Error(`server did not start: ${out}`);
const admin = readFileSync(join(data, 'admin.token'), 'utf8').trim();
const join_ = readFileSync(join(data, 'join.token'), 'utf8').trim();

const call = (token, method, path, body) => apiCall(url, token, method, path, body);

// 100 nodes through the agent protocol, kept alive by heartbeats.
const nodes = [];
for (let n = 0; n < NODES; n++) {
  const gpus = Array.from({ length: 8 }, (_, i) => ({
    index: i, uuid: `SIM-${n}-${i}`, model: 'H100-80GB', memory_mib: 81559,
    healthy: true, health_reason: '', mig_enabled: false, simulated: true,
  }));
  const r = await call(join_, 'POST', '/v1/nodes/register', {
    protocol_version: 1, name: `sim-${String(n).padStart(3, '0')}`, agent_id: `measure-${n}`,
    node_secret: `measure-secret-${'x'.repeat(32)}-${n}`, cpu_milli: 128000, memory_mib: 1048576,
    simulated: true, gpus,
  });
  nodes.push(r);
}
let beating = true;
const heartbeats = (async () => {
  while (beating) {
    await Promise.all(
      nodes.map((r) => call(r.node_token, 'POST', `/v1/nodes/${r.node_id}/heartbeat`, {
        protocol_version: 1, gpus: [], replicas: [],
      }).catch(() => {}))
    );
    await new Promise((res) => setTimeout(res, 2000));
  }
})();

// 1,000 jobs of a quarter GPU from two tenants, 16 at a time.
await call(admin, 'POST', '/v1/tenants', { name: 'team-a' });
const tokenA = (await call(admin, 'POST', '/v1/tenants/team-a/tokens', {})).token;
let next = 0;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (next < JOBS) {
      const i = next++;
      await call(i % 2 ? admin : tokenA, 'POST', '/v1/jobs', {
        name: `load-${i}`, command: ['sleep', '3600'],
        shape: { gpu_count: 1, gpu_milli: 250, isolation: 'mps' },
      });
    }
  })
);
for (let i = 0; i < 100; i++) {
  const pending = await call(admin, 'GET', '/v1/jobs?state=pending&limit=1000');
  if (pending.jobs.length === 0) break;
  await new Promise((r) => setTimeout(r, 200));
}
console.log(`pool: ${NODES} nodes, ${JOBS} jobs submitted and placed`);

async function timePage(path, ready) {
  const profile = mkdtempSync(join(tmpdir(), 'fastgpu-measure-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
  });
  await context.addInitScript((t) => sessionStorage.setItem('fastgpu.token', t), admin);
  const page = context.pages()[0] || (await context.newPage());
  const t0 = Date.now();
  await page.goto(`${url}/${path}`);
  await ready(page);
  const ms = Date.now() - t0;
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  return ms;
}
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const jobsMs = [];
const nodesMs = [];
for (let i = 0; i < 3; i++) {
  jobsMs.push(await timePage('#/jobs', (p) =>
    p.getByRole('status').filter({ hasText: `${JOBS} jobs` }).waitFor({ timeout: 60000 })));
  nodesMs.push(await timePage('#/nodes', async (p) => {
    await p.locator('article.node').nth(NODES - 1).waitFor({ timeout: 60000 });
    await p.locator('.slice a').first().waitFor({ timeout: 60000 });
  }));
}
console.log(`page load, jobs page listing ${JOBS} jobs: ${jobsMs.join(', ')} ms (median ${median(jobsMs)})`);
console.log(`page load, nodes page with ${NODES} nodes: ${nodesMs.join(', ')} ms (median ${median(nodesMs)})`);

// Runs the load generator without blocking this process (its heartbeats go on).
async function runLoadgen(label) {
  const child = spawn(loadgen, ['--mode', 'submit', '--server', url, '--data-dir', data,
    '--clients', '64', '--seconds', '10'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (b) => (text += b));
  await new Promise((r) => child.once('exit', r));
  console.log(`loadgen ${label}:\n${text.trim()}`);
}
if (args.includes('--no-loadgen')) {
  console.log('loadgen skipped');
} else {
  // Alternated, so that the noise of a shared machine falls on both.
  for (let round = 1; round <= 2; round++) {
    await runLoadgen(`round ${round}, without the dashboard`);
    const profile = mkdtempSync(join(tmpdir(), 'fastgpu-measure-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS,
    });
    await context.addInitScript((t) => sessionStorage.setItem('fastgpu.token', t), admin);
    const jobsTab = context.pages()[0] || (await context.newPage());
    await jobsTab.goto(`${url}/#/jobs`);
    const nodesTab = await context.newPage();
    await nodesTab.goto(`${url}/#/nodes`);
    await nodesTab.locator('article.node').first().waitFor({ timeout: 60000 });
    await runLoadgen(`round ${round}, with two dashboard tabs polling (jobs and nodes pages)`);
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

beating = false;
await heartbeats;
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
rmSync(data, { recursive: true, force: true });
