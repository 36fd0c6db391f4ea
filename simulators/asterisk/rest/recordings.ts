/** /ari/recordings… and POST /bridges/{id}/record, POST /channels/{id}/snoop (issue 19). */
import type { Engine } from '../engine.ts';
import { noContent, ok, type Params, type Router } from '../http.ts';
import type { RecordingManager } from '../recordings.ts';
import { snoopChannel } from '../snoop.ts';

export function registerRecordings(r: Router, engine: Engine, recs: RecordingManager): void {
  const name = (p: Params): string => p.str('recordingName') ?? '';
  r.add('POST', 'bridges/{bridgeId}/record', (p) => {
    const b = engine.bridges.get(p.str('bridgeId') ?? '');
    const body = recs.recordBridge(b, p.str('name'), p.str('format'), p.str('ifExists'));
    return { status: 201, body, headers: { Location: `/ari/recordings/live/${encodeURIComponent(String(body.name))}` } };
  })
    .add('GET', 'recordings/live/{recordingName}', (p) => ok(recs.getLive(name(p))))
    .add('DELETE', 'recordings/live/{recordingName}', (p) => {
      recs.stop(name(p), true);
      return noContent();
    })
    .add('POST', 'recordings/live/{recordingName}/stop', (p) => {
      recs.stop(name(p));
      return noContent();
    })
    .add('GET', 'recordings/stored', () => ok(recs.stored()))
    .add('GET', 'recordings/stored/{recordingName}', (p) => ok(recs.getStored(name(p))))
    .add('DELETE', 'recordings/stored/{recordingName}', (p) => {
      recs.deleteStored(name(p));
      return noContent();
    })
    .add('GET', 'recordings/stored/{recordingName}/file', (p) => ({ status: 200, body: recs.file(name(p)), headers: { 'Content-Type': 'audio/wav' } }))
    .add('POST', 'channels/{channelId}/snoop', (p) =>
      ok(snoopChannel(engine, p.str('channelId') ?? '', { spy: p.str('spy'), whisper: p.str('whisper'), app: p.str('app'), appArgs: p.str('appArgs'), snoopId: p.str('snoopId') })),
    );
}
