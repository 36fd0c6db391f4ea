/** playbacks.json, asterisk.json, applications.json (ari.md §1.3). */
import { model, op, pathParam, query, resource } from './build.ts';
import { Application, Playback } from './models.ts';

export const playbacksDoc = resource(
  'playbacks',
  [
    {
      path: '/playbacks/{playbackId}',
      description: 'Control object for a playback operation.',
      operations: [
        op('GET', 'get', 'Playback', "Get a playback's details.", [pathParam('playbackId')], [[404, 'The playback cannot be found']]),
        op('DELETE', 'stop', 'void', 'Stop a playback.', [pathParam('playbackId')], [[404, 'The playback cannot be found']]),
      ],
    },
  ],
  [Playback],
);

export const asteriskDoc = resource(
  'asterisk',
  [
    {
      path: '/asterisk/info',
      operations: [
        op('GET', 'getInfo', 'AsteriskInfo', 'Gets Asterisk system information.', [
          query('only', 'string', { multi: true, values: ['build', 'system', 'config', 'status'] }),
        ]),
      ],
    },
    { path: '/asterisk/ping', operations: [op('GET', 'ping', 'AsteriskPing', 'Response pong message.', [])] },
  ],
  [
    model('AsteriskInfo', 'Asterisk system information', { build: 'BuildInfo?', system: 'SystemInfo?', config: 'ConfigInfo?', status: 'StatusInfo?' }),
    model('BuildInfo', 'Info about how Asterisk was built', { os: 'string', kernel: 'string', options: 'string', machine: 'string', date: 'string', user: 'string' }),
    model('SystemInfo', 'Info about Asterisk', { version: 'string', entity_id: 'string' }),
    model('ConfigInfo', 'Info about Asterisk configuration', { name: 'string', default_language: 'string', setid: 'SetId' }),
    model('SetId', 'Effective user/group id', { user: 'string', group: 'string' }),
    model('StatusInfo', 'Info about Asterisk status', { startup_time: 'Date', last_reload_time: 'Date' }),
    model('AsteriskPing', 'Asterisk ping information', { asterisk_id: 'string', ping: 'string', timestamp: 'string' }),
  ],
);

export const applicationsDoc = resource(
  'applications',
  [
    { path: '/applications', operations: [op('GET', 'list', 'List[Application]', 'List all applications.', [])] },
    {
      path: '/applications/{applicationName}',
      operations: [op('GET', 'get', 'Application', 'Get details of an application.', [pathParam('applicationName')], [[404, 'Application does not exist.']])],
    },
  ],
  [Application],
);
