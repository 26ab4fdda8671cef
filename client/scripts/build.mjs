// Builds the library: dist/index.js (one ES module) and dist/*.d.ts for npm and the app,
// and the same module for the web UI at services/talkrooms/web/static/vendor/talkrooms-client/.
//
//   node scripts/build.mjs                 both
//   node scripts/build.mjs --web-only DIR  only the web UI's file, into DIR (staleness test)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const WEB_DIR = resolve(root, '../services/talkrooms/web/static/vendor/talkrooms-client');

const options = {
  entryPoints: [join(root, 'src/index.ts')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2020',
  // socket.io-client is injected by the caller, never bundled.
  external: ['socket.io-client'],
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
  banner: {
    js: `// ${pkg.name} ${pkg.version} (${pkg.license}): built from client/src by \`make client\`; do not edit.`,
  },
};

const args = process.argv.slice(2);
const webOnly = args[0] === '--web-only';
const webDir = webOnly ? resolve(args[1]) : WEB_DIR;

mkdirSync(webDir, { recursive: true });
await build({ ...options, outfile: join(webDir, 'talkrooms-client.js') });

if (!webOnly) {
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  await build({ ...options, outfile: join(root, 'dist/index.js') });
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--emitDeclarationOnly'], {
    stdio: 'inherit',
  });
}
