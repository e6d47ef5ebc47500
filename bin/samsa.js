#!/usr/bin/env node
// The samsa command: runs the compiled CLI (npm install builds it).
import { main } from '../dist/src/cli/main.js';

await main(process.argv.slice(2));
