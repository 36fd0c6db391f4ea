/** channels.json: the channel operations the simulator implements (ari.md §1.1). */
import { bodyParam, op, pathParam, query, resource } from './build.ts';
import { CallerID, Channel, DialplanCEP, Variable } from './models.ts';

const id = pathParam('channelId');
const originateParams = [
  query('endpoint', 'string', { required: true }),
  query('extension'),
  query('context'),
  query('priority', 'long'),
  query('label'),
  query('app'),
  query('appArgs'),
  query('callerId'),
  query('timeout', 'int', { def: 30 }),
  bodyParam('variables'),
];
const originateTail = [query('otherChannelId'), query('originator'), query('formats')];
const noStasis: [number, string][] = [
  [404, 'Channel not found'],
  [409, 'Channel not in a Stasis application'],
  [412, 'Channel in invalid state'],
];
const playParams = [
  query('media', 'string', { required: true, multi: true }),
  query('lang'),
  query('offsetms', 'int'),
  query('skipms', 'int', { def: 3000 }),
];
const simple = (method: 'POST' | 'DELETE', nickname: string, summary: string, extra = [] as ReturnType<typeof query>[]) =>
  op(method, nickname, 'void', summary, [id, ...extra], noStasis);

export const channelsDoc = resource(
  'channels',
  [
    {
      path: '/channels',
      description: 'Active channels',
      operations: [
        op('GET', 'list', 'List[Channel]', 'List all active channels in Asterisk.', []),
        op('POST', 'originate', 'Channel', 'Create a new channel (originate).', [...originateParams, query('channelId'), ...originateTail], [
          [400, 'Invalid parameters for originating a channel.'],
          [409, 'Channel with given unique ID already exists.'],
        ]),
      ],
    },
    {
      path: '/channels/create',
      description: 'Create a channel and place it in a Stasis app, but do not dial the channel yet.',
      operations: [
        op('POST', 'create', 'Channel', 'Create channel.', [
          query('endpoint', 'string', { required: true }),
          query('app', 'string', { required: true }),
          query('appArgs'),
          query('channelId'),
          ...originateTail,
          bodyParam('variables'),
        ], [[409, 'Channel with given unique ID already exists.']]),
      ],
    },
    {
      path: '/channels/{channelId}',
      description: 'Active channel',
      operations: [
        op('GET', 'get', 'Channel', 'Channel details.', [id], [[404, 'Channel not found']]),
        op('POST', 'originateWithId', 'Channel', 'Create a new channel (originate with id).', [id, ...originateParams, ...originateTail], [
          [400, 'Invalid parameters for originating a channel.'],
          [409, 'Channel with given unique ID already exists.'],
        ]),
        op('DELETE', 'hangup', 'void', 'Delete (i.e. hangup) a channel.', [
          id,
          query('reason_code'),
          query('reason', 'string', { values: ['normal', 'busy', 'congestion', 'no_answer', 'timeout', 'rejected', 'unallocated', 'normal_unspecified', 'number_incomplete', 'codec_mismatch', 'interworking', 'failure', 'answered_elsewhere'] }),
        ], [[400, 'Invalid reason for hangup provided'], [404, 'Channel not found']]),
      ],
    },
    { path: '/channels/{channelId}/answer', operations: [simple('POST', 'answer', 'Answer a channel.')] },
    {
      path: '/channels/{channelId}/ring',
      operations: [simple('POST', 'ring', 'Indicate ringing to a channel.'), simple('DELETE', 'ringStop', 'Stop ringing indication on a channel.')],
    },
    {
      path: '/channels/{channelId}/dtmf',
      operations: [
        simple('POST', 'sendDTMF', 'Send provided DTMF to a given channel.', [
          query('dtmf'),
          query('before', 'int', { def: 0 }),
          query('between', 'int', { def: 100 }),
          query('duration', 'int', { def: 100 }),
          query('after', 'int', { def: 0 }),
        ]),
      ],
    },
    {
      path: '/channels/{channelId}/mute',
      operations: [
        simple('POST', 'mute', 'Mute a channel.', [query('direction', 'string', { def: 'both', values: ['both', 'in', 'out'] })]),
        simple('DELETE', 'unmute', 'Unmute a channel.', [query('direction', 'string', { def: 'both', values: ['both', 'in', 'out'] })]),
      ],
    },
    { path: '/channels/{channelId}/hold', operations: [simple('POST', 'hold', 'Hold a channel.'), simple('DELETE', 'unhold', 'Remove a channel from hold.')] },
    {
      path: '/channels/{channelId}/moh',
      operations: [simple('POST', 'startMoh', 'Play music on hold to a channel.', [query('mohClass')]), simple('DELETE', 'stopMoh', 'Stop playing music on hold to a channel.')],
    },
    {
      path: '/channels/{channelId}/silence',
      operations: [simple('POST', 'startSilence', 'Play silence to a channel.'), simple('DELETE', 'stopSilence', 'Stop playing silence to a channel.')],
    },
    {
      path: '/channels/{channelId}/play',
      operations: [op('POST', 'play', 'Playback', 'Start playback of media.', [id, ...playParams, query('playbackId')], noStasis)],
    },
    {
      path: '/channels/{channelId}/play/{playbackId}',
      operations: [op('POST', 'playWithId', 'Playback', 'Start playback of media and specify the playbackId.', [id, pathParam('playbackId'), ...playParams], noStasis)],
    },
    {
      path: '/channels/{channelId}/variable',
      operations: [
        op('GET', 'getChannelVar', 'Variable', 'Get the value of a channel variable or function.', [id, query('variable', 'string', { required: true })], [
          [400, 'Missing variable parameter.'],
          [404, 'Channel or variable not found'],
          [409, 'Channel not in a Stasis application'],
        ]),
        op('POST', 'setChannelVar', 'void', 'Set the value of a channel variable or function.', [id, query('variable', 'string', { required: true }), query('value')], [
          [400, 'Missing variable parameter.'],
          [404, 'Channel not found'],
          [409, 'Channel not in a Stasis application'],
        ]),
      ],
    },
    {
      path: '/channels/{channelId}/dial',
      operations: [
        op('POST', 'dial', 'void', 'Dial a created channel.', [id, query('caller'), query('timeout', 'int', { def: 0 })], [
          [404, 'Channel cannot be found.'],
          [409, 'Channel cannot be dialed.'],
        ]),
      ],
    },
  ],
  [Channel, CallerID, DialplanCEP, Variable],
);
