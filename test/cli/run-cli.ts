/**
 * The `samsa` command for tests: what bin/samsa.js does, but importing the CLI next to this file
 * (the TypeScript source under tsx, the compiled one under dist), so tests need no build.
 */
import { main } from '../../src/cli/main.js';

await main(process.argv.slice(2));
