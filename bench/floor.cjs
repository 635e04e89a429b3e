// The least any Node program that reads a goroutine dump line by line has to do: start Node,
// read the file, find every newline (Buffer#indexOf, native). analyze-bench.mjs times it beside
// leakwatch and the Go peers, so a ratio target can be checked against what Node itself allows.
// CommonJS, as bin/leakwatch.js is: Node starts no ESM loader for it.
'use strict';
const buf = require('node:fs').readFileSync(process.argv[2]);
let lines = 0;
for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++;
process.stdout.write(`${lines}\n`);
