#!/usr/bin/env node
/**
 * i18n gate, run by `npm test`:
 *  1. en.json and ja.json have the same keys, no empty values, the same {placeholders};
 *  2. every t('key') / tOr('key', …) in src/ names a key present in both catalogs;
 *     a template key such as t(`status.${s}`) needs at least one key with that prefix;
 *  3. no user-facing text bypasses the catalogs: JSX text, string-literal JSX children,
 *     and string literals in placeholder/title/alt/aria-label/label attributes must not
 *     contain letters (punctuation such as "·" or "→" is allowed).
 * Parses TypeScript/TSX with the oxc parser bundled in rolldown (Vite's bundler).
 * Exit status 1 on any finding.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAst } from 'rolldown/parseAst';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');
// KIZUNA_I18N_SCAN: scan another directory (the checker's own test uses a fixture).
const scanDir = process.env.KIZUNA_I18N_SCAN || srcDir;
const errors = [];
// The main catalogs plus each view's parts/<view>.<lang>.json; a key defined twice is an error.
function catalog(lang) {
  const out = JSON.parse(readFileSync(join(srcDir, `i18n/${lang}.json`), 'utf8'));
  const partsDir = join(srcDir, 'i18n/parts');
  let names = [];
  try {
    names = readdirSync(partsDir).filter((n) => n.endsWith(`.${lang}.json`)).sort();
  } catch {
    names = [];
  }
  for (const name of names) {
    for (const [k, v] of Object.entries(JSON.parse(readFileSync(join(partsDir, name), 'utf8')))) {
      if (k in out) errors.push(`catalog: key "${k}" defined twice (parts/${name})`);
      out[k] = v;
    }
  }
  return out;
}
const en = catalog('en');
const ja = catalog('ja');

// 1. Catalog parity.
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
for (const [name, a, b] of [
  ['ja.json', en, ja],
  ['en.json', ja, en],
]) {
  for (const k of Object.keys(a)) if (!(k in b)) errors.push(`catalog: key "${k}" missing from ${name}`);
}
for (const [name, cat] of [
  ['en.json', en],
  ['ja.json', ja],
]) {
  for (const [k, v] of Object.entries(cat)) {
    if (typeof v !== 'string' || v.trim() === '') errors.push(`catalog: ${name} "${k}" is empty or not a string`);
  }
}
for (const k of Object.keys(en)) {
  if (k in ja && placeholders(en[k]) !== placeholders(ja[k]))
    errors.push(`catalog: "${k}" placeholders differ: en {${placeholders(en[k])}} vs ja {${placeholders(ja[k])}}`);
}

// 2 and 3. Source scan.
function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.(ts|tsx)$/.test(name) && !/\.test\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const TEXT_ATTRS = new Set(['placeholder', 'title', 'alt', 'aria-label', 'label', 'aria-description']);
const hasLetters = (s) => /\p{L}/u.test(s);
const used = new Set();
let files = 0;

for (const file of walk(scanDir)) {
  files++;
  const code = readFileSync(file, 'utf8');
  const rel = relative(root, file);
  const lineOf = (pos) => code.slice(0, pos).split('\n').length;
  let ast;
  try {
    ast = parseAst(code, { lang: file.endsWith('.tsx') ? 'tsx' : 'ts' }, file);
  } catch (e) {
    errors.push(`${rel}: cannot parse: ${e.message}`);
    continue;
  }
  const visit = (node, parent) => {
    if (!node || typeof node.type !== 'string') return;
    if (node.type === 'CallExpression') {
      const c = node.callee;
      const fname = c.type === 'Identifier' ? c.name : c.type === 'MemberExpression' && !c.computed ? c.property.name : null;
      if ((fname === 't' || fname === 'tOr' || fname === 'translate') && node.arguments.length) {
        const arg = node.arguments[fname === 'translate' ? 1 : 0];
        if (arg?.type === 'Literal' && typeof arg.value === 'string') {
          used.add(arg.value);
          for (const [name, cat] of [
            ['en.json', en],
            ['ja.json', ja],
          ])
            if (!(arg.value in cat) && fname !== 'tOr') errors.push(`${rel}:${lineOf(arg.start)}: t('${arg.value}') missing from ${name}`);
        } else if (arg?.type === 'TemplateLiteral') {
          const prefix = arg.quasis[0].value.cooked ?? '';
          if (!prefix || !Object.keys(en).some((k) => k.startsWith(prefix)))
            errors.push(`${rel}:${lineOf(arg.start)}: dynamic key with prefix "${prefix}" matches no catalog key`);
        }
      }
    }
    if (node.type === 'JSXText' && hasLetters(node.value)) {
      errors.push(`${rel}:${lineOf(node.start)}: JSX text bypasses the catalogs: "${node.value.trim()}"`);
    }
    if (
      node.type === 'JSXExpressionContainer' &&
      parent?.type === 'JSXElement' &&
      node.expression?.type === 'Literal' &&
      typeof node.expression.value === 'string' &&
      hasLetters(node.expression.value)
    ) {
      errors.push(`${rel}:${lineOf(node.start)}: string literal child bypasses the catalogs: "${node.expression.value}"`);
    }
    if (node.type === 'JSXAttribute' && node.name?.type === 'JSXIdentifier' && TEXT_ATTRS.has(node.name.name)) {
      const v = node.value;
      const lit = v?.type === 'Literal' ? v : v?.type === 'JSXExpressionContainer' && v.expression?.type === 'Literal' ? v.expression : null;
      if (lit && typeof lit.value === 'string' && hasLetters(lit.value))
        errors.push(`${rel}:${lineOf(node.start)}: attribute ${node.name.name}="${lit.value}" bypasses the catalogs`);
    }
    for (const key of Object.keys(node)) {
      if (key === 'start' || key === 'end') continue;
      const v = node[key];
      if (Array.isArray(v)) v.forEach((c) => c && typeof c === 'object' && visit(c, node));
      else if (v && typeof v === 'object') visit(v, node);
    }
  };
  visit(ast, null);
}

const unused = Object.keys(en).filter((k) => !used.has(k) && !/^(status|kind|precedence|transition|affiliation|action|conn|lang)\./.test(k));
if (process.argv.includes('--list-used')) console.log([...used].sort().join('\n'));
if (unused.length) console.log(`i18n: note: ${unused.length} catalog keys not referenced literally: ${unused.join(', ')}`);
if (errors.length) {
  console.error(errors.join('\n'));
  console.error(`i18n check FAILED: ${errors.length} problem(s) in ${files} files`);
  process.exit(1);
}
console.log(`i18n check passed: ${Object.keys(en).length} keys in en/ja, ${used.size} literal keys used in ${files} files`);
