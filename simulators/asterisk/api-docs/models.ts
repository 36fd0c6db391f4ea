/** Data models shared by several resources (ari.md §1.4, §2.1). */
import { model } from './build.ts';

export const CallerID = model('CallerID', 'Caller identification', { name: 'string', number: 'string' });

export const DialplanCEP = model('DialplanCEP', 'Dialplan location (context/extension/priority)', {
  context: 'string',
  exten: 'string',
  priority: 'long',
  app_name: 'string',
  app_data: 'string',
});

export const Channel = model('Channel', 'A specific communication connection between Asterisk and an Endpoint.', {
  id: 'string',
  name: 'string',
  state: 'string',
  protocol_id: 'string',
  caller: 'CallerID',
  connected: 'CallerID',
  accountcode: 'string',
  dialplan: 'DialplanCEP',
  creationtime: 'Date',
  language: 'string',
  channelvars: 'object?',
  caller_rdnis: 'string?',
  tenantid: 'string?',
});

export const Variable = model('Variable', 'The value of a channel variable', { value: 'string' });

export const Bridge = model('Bridge', 'The merging of media from one or more channels.', {
  id: 'string',
  technology: 'string',
  bridge_type: 'string',
  bridge_class: 'string',
  creator: 'string',
  name: 'string',
  channels: 'List[string]',
  creationtime: 'Date',
  video_mode: 'string?',
  video_source_id: 'string?',
});

export const Playback = model('Playback', 'Object representing the playback of media to a channel', {
  id: 'string',
  media_uri: 'string',
  next_media_uri: 'string?',
  target_uri: 'string',
  language: 'string?',
  state: 'string',
});

export const Application = model('Application', 'Details of a Stasis application', {
  name: 'string',
  channel_ids: 'List[string]',
  bridge_ids: 'List[string]',
  endpoint_ids: 'List[string]',
  device_names: 'List[string]',
  events_allowed: 'List[object]',
  events_disallowed: 'List[object]',
});
