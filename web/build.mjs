// Builds the dashboard into static files: one JavaScript bundle and one stylesheet, named
// by the hash of their content (so the control plane can serve them as immutable), a gzip
// copy of each, and index.html naming them. Run by CMake (web/dashboard.cmake) with
// `node build.mjs --outdir DIR`; the folder is emptied first. Works on Node 18 and later.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--outdir');
if (at < 0 || !args[at + 1]) {
  console.error('usage: node build.mjs --outdir DIR');
  process.exit(2);
}
const outdir = args[at + 1];

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const result = await build({
  entryPoints: [join(here, 'src/main.js'), join(here, 'src/app.css')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  entryNames: 'app-[hash]',
  outdir,
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
});

const names = {};
for (const file of result.outputFiles) {
  const name = file.path.slice(file.path.lastIndexOf('/') + 1);
  writeFileSync(join(outdir, name), file.contents);
  names[name.endsWith('.css') ? 'css' : 'js'] = name;
}
if (!names.js || !names.css) {
  console.error('build.mjs: esbuild produced no bundle or no stylesheet');
  process.exit(1);
}

const html = readFileSync(join(here, 'src/index.html'), 'utf8')
  .replace('%APP_JS%', `/assets/${names.js}`)
  .replace('%APP_CSS%', `/assets/${names.css}`);
writeFileSync(join(outdir, 'index.html'), html);

// A gzip copy of every file (level 9; Node writes no time into the header, so the bytes
// depend on the content alone).
for (const name of readdirSync(outdir)) {
  const bytes = readFileSync(join(outdir, name));
  writeFileSync(join(outdir, `${name}.gz`), gzipSync(bytes, { level: 9 }));
}

const sizes = readdirSync(outdir)
  .sort()
  .map((n) => `${n} ${readFileSync(join(outdir, n)).length}`);
const digest = createHash('sha256').update(sizes.join('\n')).digest('hex').slice(0, 12);
console.log(`dashboard: ${sizes.join(', ')} (${digest})`);
