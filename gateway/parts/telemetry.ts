/** Part 2: telemetry, to InfluxDB when INFLUX_URL is set, otherwise PostgreSQL. Never awaited: a down InfluxDB only buffers. */
import type { Db } from '../store/db.js';
import { createTelemetryStore } from '../store/telemetry/index.js';
import type { TelemetryQuery, TelemetryWriter } from '../store/telemetry/types.js';
import { Stops, type Part, type PartContext } from './part.js';

export interface TelemetryPart extends Part {
  writer: TelemetryWriter;
  query: TelemetryQuery;
}

export function startTelemetry({ cfg, log, metrics, health, summary }: PartContext, db: Db): TelemetryPart {
  const stops = new Stops(log);
  const telemetryStore = createTelemetryStore(
    cfg,
    db,
    (writer) => ({
      onBatch: (result, _size, ms) => {
        metrics.telemetryBatches.inc({ writer, result });
        metrics.telemetryWriteSeconds.observe({ writer, result }, ms / 1000);
      },
      onDrop: (n) => metrics.telemetryDropped.inc({ writer }, n),
      onRefused: (n, reason) => metrics.telemetryRefused.inc({ writer, reason }, n),
      onDepth: (n) => metrics.telemetryBuffer.set({ writer }, n),
    }),
    (m) => log.warn({ part: 'telemetry' }, m),
  );
  const telemetry = telemetryStore.writer;
  stops.add('telemetry', () => telemetry.close());
  health.register(
    'telemetry',
    () => {
      const s = telemetry.stats();
      metrics.telemetryBuffer.set({ writer: telemetry.name }, s.buffered);
      return { state: s.failing ? 'degraded' : 'up', mode: telemetry.name, detail: `buffered ${s.buffered}, dropped ${s.dropped}, refused ${s.refused}${s.lastError ? `, last error: ${s.lastError.slice(0, 200)}` : ''}` };
    },
    false,
  );
  summary.push(`Telemetry    ${telemetryStore.describe}`);
  return { writer: telemetry, query: telemetryStore.query, stop: () => stops.stop() };
}
