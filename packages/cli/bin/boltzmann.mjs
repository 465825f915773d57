#!/usr/bin/env node
// The installed `boltzmann` command: registers tsx (no build step) and runs the TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
