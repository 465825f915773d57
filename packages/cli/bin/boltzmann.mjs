#!/usr/bin/env node
// The installed `boltzmann` command: registers tsx (no build step) and runs the TypeScript entry.
// tsx reads the workspace's tsconfig.json (decorators for inversify), not the one of the
// directory the user runs the command from.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)) });
await import('../src/main.ts');
