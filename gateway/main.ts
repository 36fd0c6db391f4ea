import { startApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

let cfg;
try {
  cfg = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(2);
  }
  throw e;
}

const app = await startApp(cfg).catch((e: Error) => {
  console.error(`Anxin failed to start: ${e.message}`);
  process.exit(1);
});

console.log(['', 'Anxin 安心 is running:', ...app.summary.map((l) => `  ${l}`)].join('\n'));
if (app.generatedAdminPassword) {
  console.log(`\n  First start: user "admin" was created with password ${app.generatedAdminPassword}\n  (set ADMIN_PASSWORD to choose it; change it after logging in)\n`);
}

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal: sig }, 'stopping: no new connections, draining, closing in reverse order');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    app.stop().then(() => process.exit(0), () => process.exit(1));
  });
}
