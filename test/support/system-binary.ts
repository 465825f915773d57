import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SETUP = fileURLToPath(new URL('../../scripts/system-packages.sh', import.meta.url));

/** The path of a server binary from Debian's packages, installed by scripts/system-packages.sh when missing. */
export function systemBinary(name: string): string {
  const find = () => ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin'].map((dir) => `${dir}/${name}`).find((p) => existsSync(p));
  let path = find();
  if (path === undefined) {
    try {
      execFileSync('bash', [SETUP], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      throw new Error(`${name} is not installed and scripts/system-packages.sh could not install it (run it as root, or apt-get install ${name}): ${(error as Error).message.split('\n')[0]}`);
    }
    path = find();
  }
  if (path === undefined) throw new Error(`${name} is not installed (scripts/system-packages.sh ran but did not provide it)`);
  return path;
}
