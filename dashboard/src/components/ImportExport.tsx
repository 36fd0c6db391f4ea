/** 批量导入导出 (issue 20): templates, a dry run listing every bad row, the import with a progress bar, exports. */
import { useState } from 'preact/hooks';
import { t } from '../i18n';
import { dryRun, exportUrl, follow, startImport, templateUrl, type DryRun, type ImportJob, type Kind } from '../import';
import { errorText } from '../session';
import { useStore } from '../store';

const KINDS: Kind[] = ['elders', 'contacts', 'devices'];

export function ImportExport() {
  const role = useStore((s) => s.user?.role);
  const [file, setFile] = useState<File | null>(null);
  const [kind, setKind] = useState<Kind | ''>('');
  const [check, setCheck] = useState<DryRun | null>(null);
  const [job, setJob] = useState<ImportJob | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const csv = !!file && /\.csv$/i.test(file.name);
  const exportKinds = role === 'installer' ? KINDS.filter((k) => k !== 'contacts') : KINDS;
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const k = csv && kind ? kind : undefined;
  const pct = job && job.total > 0 ? Math.round((100 * job.done) / job.total) : 0;

  return (
    <main class="import-view" data-testid="import-view">
      <section class="box">
        <h2>{t('import.templates')}</h2>
        <p class="muted">{t('import.templatesNote')}</p>
        <div class="import-links">
          <a class="btn small" href={templateUrl('xlsx')} download data-testid="template-xlsx">
            {t('import.templateXlsx')}
          </a>
          {KINDS.map((x) => (
            <a key={x} class="btn small ghost" href={templateUrl('csv', x)} download data-testid={`template-csv-${x}`}>
              {t('import.templateCsv', { kind: t(`import.kind.${x}`) })}
            </a>
          ))}
        </div>
      </section>

      <section class="box">
        <h2>{t('import.title')}</h2>
        <form
          class="import-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (file) void run(async () => setCheck(await dryRun(file, k)));
          }}
        >
          <input
            type="file"
            accept=".xlsx,.csv"
            aria-label={t('import.file')}
            onChange={(e) => {
              setFile(e.currentTarget.files?.[0] ?? null);
              setCheck(null);
              setJob(null);
            }}
            data-testid="import-file"
          />
          {csv && (
            <select value={kind} onChange={(e) => setKind(e.currentTarget.value as Kind | '')} aria-label={t('import.kindLabel')} data-testid="import-kind">
              <option value="">{t('import.kindFromHeaders')}</option>
              {KINDS.map((x) => (
                <option key={x} value={x}>
                  {t(`import.kind.${x}`)}
                </option>
              ))}
            </select>
          )}
          <button type="submit" class="btn" disabled={!file || busy} data-testid="import-check">
            {t('import.check')}
          </button>
          <button
            type="button"
            class="btn primary"
            disabled={!file || busy || !check?.ok || (job !== null && job.state !== 'failed')}
            title={check?.ok ? undefined : t('import.checkFirst')}
            onClick={() => file && void run(async () => setJob(await follow(await startImport(file, k), setJob)))}
            data-testid="import-run"
          >
            {t('import.run')}
          </button>
        </form>
        {error && (
          <p class="form-error" role="alert" data-testid="import-error">
            {error}
          </p>
        )}
        {check && <CheckResult check={check} />}
        {job && (
          <div class="import-job" data-testid="import-job" data-state={job.state}>
            <progress max={100} value={pct} aria-label={t('import.progress')} data-testid="import-progress" />
            <span>{t(`import.state.${job.state}` as 'import.state.done', { done: job.done, total: job.total })}</span>
            {job.state === 'failed' && <p class="form-error">{job.message ?? t('import.failed')}</p>}
            {job.state === 'done' && job.counts && <p data-testid="import-done">{t('import.doneCounts', { elders: job.counts.elders.create + job.counts.elders.update, contacts: job.counts.contacts.rows, devices: job.counts.devices.create })}</p>}
            {!!job.secrets?.length && (
              <div class="callout" data-testid="import-secrets">
                <strong>{t('import.secrets')}</strong>
                <ul>
                  {job.secrets.map((x) => (
                    <li key={x.identifier}>
                      <code>{x.identifier}</code> <code>{x.mqttSecret}</code>
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </div>
        )}
      </section>

      <section class="box">
        <h2>{t('import.export')}</h2>
        <div class="import-links">
          <a class="btn small" href={exportUrl('xlsx')} download data-testid="export-xlsx">
            {t('import.exportXlsx')}
          </a>
          {exportKinds.map((x) => (
            <a key={x} class="btn small ghost" href={exportUrl('csv', x)} download data-testid={`export-csv-${x}`}>
              {t('import.exportCsv', { kind: t(`import.kind.${x}`) })}
            </a>
          ))}
        </div>
      </section>
    </main>
  );
}

function CheckResult({ check }: { check: DryRun }) {
  const c = check.counts;
  return (
    <div class="import-check" data-testid="import-check-result" data-ok={check.ok}>
      <p class={check.ok ? 'ok' : 'form-error'}>
        {check.ok ? t('import.checkOk', { elders: c.elders.rows, contacts: c.contacts.rows, devices: c.devices.rows }) : t('import.checkBad', { n: check.errorCount })}
      </p>
      {check.errors.length > 0 && (
        <table class="table" data-testid="import-errors">
          <thead>
            <tr>
              <th>{t('import.sheet')}</th>
              <th>{t('import.row')}</th>
              <th>{t('import.column')}</th>
              <th>{t('import.problem')}</th>
            </tr>
          </thead>
          <tbody>
            {check.errors.map((e, i) => (
              <tr key={i} data-testid="import-error-row">
                <td class="nowrap">{(KINDS as string[]).includes(e.sheet) ? t(`import.kind.${e.sheet as Kind}`) : e.sheet}</td>
                <td class="num nowrap">{e.row}</td>
                <td>{e.column ?? e.field ?? '—'}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
