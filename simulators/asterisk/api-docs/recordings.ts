/** recordings.json (issue 19): live and stored recordings; served because Recording* events carry a LiveRecording (ari.md §0.3). */
import { model, op, pathParam, resource } from './build.ts';

const nf: [number, string][] = [[404, 'Recording not found']];

export const recordingsDoc = resource(
  'recordings',
  [
    { path: '/recordings/stored', operations: [op('GET', 'listStored', 'List[StoredRecording]', 'List recordings that are complete.', [])] },
    {
      path: '/recordings/stored/{recordingName}',
      operations: [
        op('GET', 'getStored', 'StoredRecording', "Get a stored recording's details.", [pathParam('recordingName')], nf),
        op('DELETE', 'deleteStored', 'void', 'Delete a stored recording.', [pathParam('recordingName')], nf),
      ],
    },
    { path: '/recordings/stored/{recordingName}/file', operations: [op('GET', 'getStoredFile', 'binary', 'Get the file associated with the stored recording.', [pathParam('recordingName')], nf)] },
    {
      path: '/recordings/live/{recordingName}',
      operations: [
        op('GET', 'getLive', 'LiveRecording', 'List live recordings.', [pathParam('recordingName')], nf),
        op('DELETE', 'cancel', 'void', 'Stop a live recording and discard it.', [pathParam('recordingName')], nf),
      ],
    },
    { path: '/recordings/live/{recordingName}/stop', operations: [op('POST', 'stop', 'void', 'Stop a live recording and store it.', [pathParam('recordingName')], nf)] },
  ],
  [
    model('StoredRecording', 'A past recording that may be played back.', { name: 'string', format: 'string' }),
    model('LiveRecording', 'A recording that is in progress', {
      name: 'string',
      format: 'string',
      target_uri: 'string',
      state: 'string',
      duration: 'int?',
      talking_duration: 'int?',
      silence_duration: 'int?',
      cause: 'string?',
    }),
  ],
);
