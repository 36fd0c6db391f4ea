/**
 * Reading an upload in a child process: exceljs takes seconds of CPU for a 10,000-row workbook, and the gateway is
 * one process whose event loop also carries the alarm path. The child runs what the gateway runs (the compiled
 * tree, or the sources under tsx), with its own heap limit (a zip bomb ends the child, not the gateway).
 */
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPILED, ROOT } from '../paths.js';
import type { Kind } from './columns.js';
import { ImportFileError, type ReadResult } from './workbook.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export function readUploadOffThread(bytes: Buffer, opts: { kind?: Kind; maxRows: number }): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(HERE, COMPILED ? 'parse-worker.js' : 'parse-worker.ts'), [], {
      execArgv: [...(COMPILED ? [] : ['--import', 'tsx']), '--max-old-space-size=1024'],
      cwd: ROOT,
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
    };
    child.once('message', (m: { ok: true; r: ReadResult } | { ok: false; message: string; status?: number; file: boolean }) =>
      settle(() => (m.ok ? resolve(m.r) : reject(m.file ? new ImportFileError(m.message, m.status) : new Error(m.message)))),
    );
    child.once('error', (e) => settle(() => reject(e)));
    child.once('exit', (code, signal) =>
      settle(() => reject(code === 134 || signal === 'SIGABRT' ? new ImportFileError('文件解压后过大 / the workbook is too large once unpacked', 413) : new Error(`the file reader stopped (exit ${code ?? signal})`))),
    );
    child.send({ bytes, kind: opts.kind, maxRows: opts.maxRows });
  });
}
