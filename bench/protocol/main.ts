/**
 * npm run bench: protocol benchmarks. Each figure is printed beside a baseline measured in the
 * same run, interleaved, and the ratio between them (this machine's speed drifts; ratios hold).
 */
import { benchCodec } from './codec.js';
import { benchRecords } from './records.js';

console.log(`protocol benchmarks — node ${process.version}`);
benchCodec();
await benchRecords();
