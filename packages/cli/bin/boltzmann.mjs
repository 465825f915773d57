#!/usr/bin/env node
// The installed `boltzmann` command: the compiled CLI. Inside the repository, run the sources
// with `npm start` or `tsx --conditions=@boltzmann/source packages/cli/src/main.ts`.
import '../dist/main.js';
