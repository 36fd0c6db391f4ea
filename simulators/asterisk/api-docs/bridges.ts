/** bridges.json (ari.md §1.2). */
import { op, pathParam, query, resource } from './build.ts';
import { Bridge } from './models.ts';

const id = pathParam('bridgeId');
const types = query('type');

export const bridgesDoc = resource(
  'bridges',
  [
    {
      path: '/bridges',
      description: 'Active bridges',
      operations: [
        op('GET', 'list', 'List[Bridge]', 'List all active bridges in Asterisk.', []),
        op('POST', 'create', 'Bridge', 'Create a new bridge.', [types, query('bridgeId'), query('name')], [[409, 'Bridge with the same bridgeId already exists']]),
      ],
    },
    {
      path: '/bridges/{bridgeId}',
      description: 'Individual bridge',
      operations: [
        op('POST', 'createWithId', 'Bridge', 'Create a new bridge with the given id.', [types, id, query('name')], [[409, 'Bridge with the same bridgeId already exists']]),
        op('GET', 'get', 'Bridge', 'Get bridge details.', [id], [[404, 'Bridge not found']]),
        op('DELETE', 'destroy', 'void', 'Shut down a bridge.', [id], [[404, 'Bridge not found']]),
      ],
    },
    {
      path: '/bridges/{bridgeId}/addChannel',
      operations: [
        op('POST', 'addChannel', 'void', 'Add a channel to a bridge.', [
          id,
          query('channel', 'string', { required: true, multi: true }),
          query('role'),
          query('absorbDTMF', 'boolean', { def: false }),
          query('mute', 'boolean', { def: false }),
          query('inhibitConnectedLineUpdates', 'boolean', { def: false }),
        ], [
          [400, 'Channel not found'],
          [404, 'Bridge not found'],
          [409, 'Bridge not in Stasis application; Channel currently recording'],
          [422, 'Channel not in Stasis application'],
        ]),
      ],
    },
    {
      path: '/bridges/{bridgeId}/removeChannel',
      operations: [
        op('POST', 'removeChannel', 'void', 'Remove a channel from a bridge.', [id, query('channel', 'string', { required: true, multi: true })], [
          [400, 'Channel not found'],
          [404, 'Bridge not found'],
          [409, 'Bridge not in Stasis application'],
          [422, 'Channel not in this bridge'],
        ]),
      ],
    },
    {
      path: '/bridges/{bridgeId}/play',
      operations: [
        op('POST', 'play', 'Playback', 'Start playback of media on a bridge.', [
          id,
          query('media', 'string', { required: true, multi: true }),
          query('lang'),
          query('offsetms', 'int'),
          query('skipms', 'int', { def: 3000 }),
          query('playbackId'),
        ], [[404, 'Bridge not found'], [409, 'Bridge not in a Stasis application']]),
      ],
    },
  ],
  [Bridge],
);
