/**
 * The command lines' shared answer to their arguments: `--help` prints the usage (exit 0); anything else on the
 * command line is a usage error: one line and the usage (exit 2), never a stack trace. For commands that take no
 * arguments of their own (npm run migrate, npm run api-types).
 */
import { parseArgs } from 'node:util';

export function helpOnly(usage: string): void {
  try {
    const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h', default: false } }, strict: true });
    if (values.help) {
      console.log(usage);
      process.exit(0);
    }
  } catch (e) {
    console.error(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}\n${usage}`);
    process.exit(2);
  }
}
