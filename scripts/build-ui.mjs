// Builds the dashboard into dist/ (run by `npm run build`, hence by `npm ci`):
// the page's files from src/api/coordinator/ui/page, and the one library it
// uses (Preact, with htm for markup without a compile step) copied from
// node_modules into page/vendor, so that a coordinator serves everything
// itself and nothing is fetched at run time.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const from = path.join(root, 'src/api/coordinator/ui/page');
const to = path.join(root, 'dist/src/api/coordinator/ui/page');
const require = createRequire(path.join(root, 'package.json'));
/** A package's folder: up from its entry point to the package.json that names it (the packages do not export their package.json). */
function packageDir(name) {
  let dir = path.dirname(require.resolve(name));
  while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== name) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`build-ui: cannot find the folder of ${name}`);
    dir = up;
  }
  return dir;
}

fs.rmSync(to, { recursive: true, force: true });
fs.cpSync(from, to, { recursive: true });

const vendor = path.join(to, 'vendor');
fs.mkdirSync(vendor, { recursive: true });
const preact = packageDir('preact');
const htm = packageDir('htm');
fs.copyFileSync(path.join(preact, 'dist/preact.mjs'), path.join(vendor, 'preact.mjs'));
// The hooks module imports the bare specifier "preact"; the browser resolves only paths (no import map, so the CSP needs no inline script).
const hooks = fs.readFileSync(path.join(preact, 'hooks/dist/hooks.mjs'), 'utf8');
if (!hooks.includes('from"preact"')) throw new Error('build-ui: preact/hooks no longer imports "preact" as expected; check the vendoring');
fs.writeFileSync(path.join(vendor, 'hooks.mjs'), hooks.replaceAll('from"preact"', 'from"./preact.mjs"'));
fs.copyFileSync(path.join(htm, 'dist/htm.module.js'), path.join(vendor, 'htm.mjs'));
fs.copyFileSync(path.join(preact, 'LICENSE'), path.join(vendor, 'preact-LICENSE.txt'));
fs.copyFileSync(path.join(htm, 'LICENSE'), path.join(vendor, 'htm-LICENSE.txt'));
console.log(`build-ui: dashboard in ${path.relative(root, to)}`);
