import { statSync } from 'node:fs';

/**
 * Why a secret key file (a node key, an encrypted keystore) must not be used, or undefined when it
 * may: it must be a regular file that neither group nor others can read, write or execute (mode
 * 0600 or stricter; `chmod 600 <file>`). POSIX modes only: on Windows nothing is reported.
 */
export function keyFileExposure(path: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  const st = statSync(path);
  if (!st.isFile()) return `${path} is not a regular file`;
  const loose = st.mode & 0o077;
  if (loose !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    return `${path} has mode ${mode}: group or others can access this secret key file; run \`chmod 600 ${path}\``;
  }
  return undefined;
}
