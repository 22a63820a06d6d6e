// Starts a real server as a child process and waits for the line that gives its URL.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ env?: object, cwd?: string, timeoutMs?: number, name?: string }} [opts]
 * @returns {Promise<{ url: string, child: import('node:child_process').ChildProcess,
 *   output: () => string, stop: () => Promise<void> }>}
 */
export function spawnServer(cmd, args, { env = {}, cwd, timeoutMs = 20_000, name = cmd } = {}) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (chunk) => { out += chunk.toString('utf8'); };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);

  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${name} printed no URL within ${timeoutMs} ms. Output:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        resolve({ url: m[1], child, output: () => out, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (code ${code}, signal ${signal}) before printing its URL. Output:\n${out}`));
    });
  });
}

/** A free TCP port on 127.0.0.1 (for servers that cannot be told to pick one). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
