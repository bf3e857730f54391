#!/usr/bin/env node
/**
 * The web app's API types, generated from the node's OpenAPI document.
 *
 *   node scripts/api-types.mjs            write src/generated/api.ts   (`npm run gen:types`, `make types`)
 *   node scripts/api-types.mjs --check    fail if the committed file differs from a fresh generation
 *                                         (`npm run check:types`, run by `make web` and the Python tests)
 *   --openapi FILE                        read the document from FILE instead of running
 *                                         `python -m kizuna.api.openapi` (python: $KIZUNA_PYTHON,
 *                                         else ../.venv/bin/python)
 *
 * The generator lives in tools/api-types (openapi-typescript with the TypeScript 5 it needs).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from 'kizuna-api-types';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'src', 'generated', 'api.ts');
const shown = relative(process.cwd(), target) || target;

function usage(message) {
  console.error(`api-types: ${message}\nusage: node scripts/api-types.mjs [--check] [--openapi FILE]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let check = false;
let openapi = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--check') check = true;
  else if (args[i] === '--openapi' && i + 1 < args.length) openapi = args[++i];
  else usage(`unknown argument ${JSON.stringify(args[i])}`);
}

const tmp = mkdtempSync(join(tmpdir(), 'kizuna-api-types-'));
try {
  if (openapi === null) {
    const python = process.env.KIZUNA_PYTHON || join(root, '..', '.venv', 'bin', 'python');
    if (!process.env.KIZUNA_PYTHON && !existsSync(python)) {
      throw new Error(`no ${python}: run \`make install\` first, set KIZUNA_PYTHON, or pass --openapi FILE`);
    }
    openapi = join(tmp, 'openapi.json');
    execFileSync(python, ['-m', 'kizuna.api.openapi', openapi], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const fresh = await generate(JSON.parse(readFileSync(openapi, 'utf8')));
  if (check) {
    const generated = join(tmp, 'api.ts');
    writeFileSync(generated, fresh);
    const committed = existsSync(target) ? readFileSync(target, 'utf8') : null;
    if (committed !== fresh) {
      const why = committed === null ? 'is missing' : 'differs from the node API';
      const a = (committed ?? '').split('\n');
      const b = fresh.split('\n');
      let line = 0;
      while (line < a.length && line < b.length && a[line] === b[line]) line++;
      console.error(
        `api-types: ${shown} ${why} (first difference at line ${line + 1}).\n` +
          `  committed: ${JSON.stringify(a[line] ?? '<end of file>')}\n` +
          `  generated: ${JSON.stringify(b[line] ?? '<end of file>')}\n` +
          'Regenerate it with `make types` (or `npm run gen:types` in web/) and commit the result.',
      );
      process.exitCode = 1;
    } else {
      console.log(`api-types: ${shown} matches the node API`);
    }
  } else {
    mkdirSync(dirname(target), { recursive: true });
    const before = existsSync(target) ? readFileSync(target, 'utf8') : null;
    if (before !== fresh) writeFileSync(target, fresh);
    console.log(`api-types: ${shown} ${before === fresh ? 'unchanged' : 'written'}`);
  }
} catch (e) {
  console.error(`api-types: ${e instanceof Error ? e.message : e}`);
  process.exitCode = 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
