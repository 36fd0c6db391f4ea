/** Reads an upload off the gateway's event loop (a child process of gateway/import/parse.ts): exceljs is CPU-bound. */
import { ImportFileError, readUpload } from './workbook.js';
import type { Kind } from './columns.js';

process.once('message', (m: { bytes: Uint8Array; kind?: Kind; maxRows: number }) => {
  readUpload(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength), { kind: m.kind, maxRows: m.maxRows }).then(
    (r) => process.send!({ ok: true, r }, () => process.exit(0)),
    (e: unknown) => process.send!({ ok: false, message: (e as Error).message, status: e instanceof ImportFileError ? e.status : undefined, file: e instanceof ImportFileError }, () => process.exit(0)),
  );
});
