#!/usr/bin/env node
// Asserts that the root entry of the built package (dist/src/index.js and its .d.ts) never reaches an optional
// peer: apps that do not use TypeORM, Redis, S3, Azure or Terminus must be able to import the root without them.
// Walks the relative import graph of both the JavaScript and the declaration files. Run after `npm run build`.
const fs = require('fs');
const path = require('path');

const OPTIONAL = ['typeorm', '@nestjs/typeorm', 'ioredis', '@aws-sdk/', '@azure/', '@nestjs/terminus', 'sqlite3', 'pg'];
const root = path.join(__dirname, '..', 'dist', 'src');
const problems = [];

for (const ext of ['.js', '.d.ts']) {
  const seen = new Set();
  const queue = [path.join(root, `index${ext}`)];
  while (queue.length) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    if (!fs.existsSync(file)) {
      problems.push(`missing ${path.relative(root, file)}`);
      continue;
    }
    const text = fs.readFileSync(file, 'utf8');
    // Only statements at the top level load at import time: in compiled CommonJS they start at column 0.
    // A `require()` inside a function body (indented) is a lazy, opt-in load and is not followed.
    const lines = text
      .split('\n')
      .filter((l) =>
        ext === '.d.ts'
          ? true
          : /^(const|var|let|__exportStar|exports\.|Object\.defineProperty|import|export)\b/.test(l),
      );
    for (const line of lines) {
      for (const m of line.matchAll(/(?:require\(|from\s+|import\(\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1];
        if (spec.startsWith('.')) {
          const base = path.resolve(path.dirname(file), spec);
          const hit = [base + ext, path.join(base, `index${ext}`)].find((c) => fs.existsSync(c));
          if (hit) queue.push(hit);
        } else if (OPTIONAL.some((p) => spec === p || spec.startsWith(p.endsWith('/') ? p : `${p}/`))) {
          problems.push(`${path.relative(root, file)} imports optional peer ${spec}`);
        }
      }
    }
  }
}

if (problems.length) {
  console.error(`Root entry reaches optional peers:\n - ${problems.join('\n - ')}`);
  process.exit(1);
}
console.log('Root entry surface is free of optional peers.');
