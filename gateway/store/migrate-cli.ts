import { helpOnly } from '../cli-usage.js';
import { ConfigError, loadConfig } from '../config.js';
import { migrate } from './migrate.js';

const USAGE = `usage: DATABASE_URL=postgres://user:pass@host:5432/db npm run migrate
  Applies the pending migrations (gateway/store/migrations/*.sql) to the external PostgreSQL at DATABASE_URL.
  The embedded PostgreSQL of \`npm start\` is migrated by the server itself at every start.`;

helpOnly(USAGE);

let cfg;
try {
  cfg = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  process.exit(2);
}
if (!cfg.databaseUrl) {
  console.error('DATABASE_URL is not set: `npm start` migrates the embedded database by itself.');
  process.exit(2);
}
const names = await migrate(cfg.databaseUrl, console.log);
console.log(names.length ? `applied: ${names.join(', ')}` : 'no migrations to apply');
