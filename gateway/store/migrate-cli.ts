import { loadConfig } from '../config.js';
import { migrate } from './migrate.js';

const cfg = loadConfig();
if (!cfg.databaseUrl) {
  console.error('DATABASE_URL is not set: `npm start` migrates the embedded database by itself.');
  process.exit(2);
}
const names = await migrate(cfg.databaseUrl, console.log);
console.log(names.length ? `applied: ${names.join(', ')}` : 'no migrations to apply');
