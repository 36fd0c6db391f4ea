/**
 * events.json: the WebSocket operation and one model per event type (ari.md §2.1).
 * ari-client crashes on an event whose type is not a model here (ari.md §0.2), so the simulator refuses
 * to emit any type missing from EVENT_TYPES.
 */
import { model, op, query, resource, type ModelDoc } from './build.ts';

const common = { type: 'string', timestamp: 'Date', application: 'string', asterisk_id: 'string?' };
const ev = (id: string, description: string, props: Record<string, string>): ModelDoc =>
  model(id, description, { ...common, ...props });

const eventModels: ModelDoc[] = [
  model('Message', 'Base type for errors and events', { type: 'string', asterisk_id: 'string?' }),
  model('MissingParams', 'Error event sent when required params are missing.', { type: 'string', params: 'List[string]' }),
  ev('Event', 'Base type for asynchronous events from Asterisk.', {}),
  ev('StasisStart', 'Notification that a channel has entered a Stasis application.', { args: 'List[string]', channel: 'Channel', replace_channel: 'Channel?' }),
  ev('StasisEnd', 'Notification that a channel has left a Stasis application.', { channel: 'Channel' }),
  ev('ChannelCreated', 'Notification that a channel has been created.', { channel: 'Channel' }),
  ev('ChannelStateChange', 'Notification of a channel state change.', { channel: 'Channel' }),
  ev('ChannelDestroyed', 'Notification that a channel has been destroyed.', { cause: 'int', cause_txt: 'string', tech_cause: 'int?', channel: 'Channel' }),
  ev('ChannelHangupRequest', 'A hangup was requested on the channel.', { cause: 'int?', soft: 'boolean?', tech_cause: 'int?', channel: 'Channel' }),
  ev('ChannelDtmfReceived', 'DTMF received on a channel (sent when the digit ends).', { digit: 'string', duration_ms: 'int', channel: 'Channel' }),
  ev('Dial', 'Dialing state has changed.', { caller: 'Channel?', peer: 'Channel', forward: 'string?', forwarded: 'Channel?', dialstring: 'string?', dialstatus: 'string' }),
  ev('ChannelEnteredBridge', 'Notification that a channel has entered a bridge.', { bridge: 'Bridge', channel: 'Channel?' }),
  ev('ChannelLeftBridge', 'Notification that a channel has left a bridge.', { bridge: 'Bridge', channel: 'Channel' }),
  ev('BridgeCreated', 'Notification that a bridge has been created.', { bridge: 'Bridge' }),
  ev('BridgeDestroyed', 'Notification that a bridge has been destroyed.', { bridge: 'Bridge' }),
  ev('PlaybackStarted', 'Event showing the start of a media playback operation.', { playback: 'Playback' }),
  ev('PlaybackContinuing', 'Event showing the continuation of a media playback operation from one media URI to the next in the list.', { playback: 'Playback' }),
  ev('PlaybackFinished', 'Event showing the completion of a media playback operation.', { playback: 'Playback' }),
  ev('ChannelVarset', 'Channel variable changed.', { variable: 'string', value: 'string', channel: 'Channel?' }),
  ev('ChannelCallerId', 'Channel changed Caller ID.', { caller_presentation: 'int', caller_presentation_txt: 'string', channel: 'Channel' }),
  ev('ChannelConnectedLine', 'Channel changed Connected Line.', { channel: 'Channel' }),
  ev('ChannelDialplan', 'Channel changed location in the dialplan.', { dialplan_app: 'string', dialplan_app_data: 'string', channel: 'Channel' }),
  ev('RecordingStarted', 'Event showing the start of a recording operation.', { recording: 'LiveRecording' }),
  ev('RecordingFinished', 'Event showing the completion of a recording operation.', { recording: 'LiveRecording' }),
  ev('RecordingFailed', 'Event showing failure of a recording operation.', { recording: 'LiveRecording' }),
  ev('ApplicationReplaced', 'Notification that another WebSocket has taken over for an application.', {}),
  ev('ApplicationRegistered', 'Notification that a Stasis app has been registered.', {}),
  ev('ApplicationUnregistered', 'Notification that a Stasis app has been unregistered.', {}),
];

export const eventsDoc = resource(
  'events',
  [
    {
      path: '/events',
      description: 'Events from Asterisk to applications',
      operations: [
        {
          ...op('GET', 'eventWebsocket', 'Message', 'WebSocket connection for events.', [
            query('app', 'string', { required: true, multi: true }),
            query('subscribeAll', 'boolean'),
          ]),
          upgrade: 'websocket',
          websocketProtocol: 'ari',
        },
      ],
    },
  ],
  eventModels,
);

/** Every event type the simulator may send. */
export const EVENT_TYPES: ReadonlySet<string> = new Set(eventModels.map((m) => m.id).filter((id) => id !== 'Message' && id !== 'Event' && id !== 'MissingParams'));
