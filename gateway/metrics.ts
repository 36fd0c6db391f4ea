import client from 'prom-client';

/** Flushes of the hot counters made on a counter, run when prom-client collects it (scrape, registry.metrics()). */
const hot = new WeakMap<object, (() => void)[]>();

/**
 * A counter for the per-frame paths: adds to a plain number and hands the sum to prom-client when the metric
 * is collected. prom-client hashes the label set on every inc(), bound children included (bench: ~3 % of the
 * gateway's CPU at 10,000 messages/s).
 */
export function hotCounter(counter: client.Counter<string>, labels: Record<string, string>): { inc(n?: number): void } {
  let n = 0;
  let list = hot.get(counter);
  if (!list) hot.set(counter, (list = []));
  list.push(() => {
    if (n === 0) return;
    counter.inc(labels, n);
    n = 0;
  });
  return {
    inc(by = 1) {
      n += by;
    },
  };
}

/** hotCounter per label set of one counter, made on first use: `hot('watch', 'position').inc()`. */
export function hotCounters(counter: client.Counter<string>, labelNames: string[]): (...values: string[]) => { inc(n?: number): void } {
  const made = new Map<string, { inc(n?: number): void }>();
  return (...values) => {
    const key = values.join('\u0000');
    let c = made.get(key);
    if (!c) made.set(key, (c = hotCounter(counter, Object.fromEntries(labelNames.map((n, i) => [n, values[i]!])))));
    return c;
  };
}

/** All metrics in one registry, so tests can create a fresh one per server. */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'anxin_' });
  const c = (name: string, help: string, labelNames: string[] = []) =>
    new client.Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const flush of hot.get(this) ?? []) flush();
      },
    });
  const g = (name: string, help: string, labelNames: string[] = []) => new client.Gauge({ name, help, labelNames, registers: [registry] });
  // gauges worked out when scraped (the cluster's share): the parts register how
  const collectors: (() => void)[] = [];
  const gc = (name: string, help: string) => new client.Gauge({ name, help, registers: [registry], collect: () => collectors.forEach((f) => f()) });
  return {
    registry,
    /** runs `fn` whenever the cluster gauges are scraped */
    onCollect: (fn: () => void) => void collectors.push(fn),
    node: g('anxin_node_info', 'This gateway node (label node: NODE_ID, else host and pid); always 1', ['node']),
    clusterNodes: gc('anxin_cluster_nodes', 'Gateway nodes alive in the cluster as this node sees them (heartbeats over Redis; 1 without REDIS_URL)'),
    nodeDevices: g('anxin_node_devices', 'Device sessions this node holds (TCP and MQTT)'),
    nodeShare: g('anxin_node_share', "This node's share of the cluster's device sessions, 0–1"),
    frames: c('anxin_frames_total', 'Frames received from devices', ['protocol']),
    responderLinks: c('anxin_responder_links_total', "Uses of responders' one-time links: opened, accept, refuse, arrive, done; refused as unknown, expired or refused_*", ['result']),
    sms: c('anxin_sms_total', 'SMS messages by direction and state: out queued, held, submitted, delivered, failed, suppressed…; in received, unmatched', ['direction', 'state']),
    badFrames: c('anxin_bad_frames_total', 'Malformed frames, by reason', ['protocol', 'reason']),
    bytesReceived: c('anxin_bytes_received_total', 'Bytes read from device connections and alarm receiver lines', ['protocol']),
    bytesDiscarded: c('anxin_bytes_discarded_total', 'Bytes read but in no frame: garbage between frames, oversized frames, a partial frame when its connection closed', ['protocol', 'reason']),
    dc09Replies: c('anxin_dc09_replies_total', 'DC-09 receiver replies: ack (poll or event, after the commit), duh (unknown_account, clear_with_key, no_key, bad_data…), nak (time_window)', ['reply', 'reason']),
    scaipResponses: c('anxin_scaip_sip_responses_total', 'SIP final responses to SCAIP units: 200 (after the commit), 415, 405, 503 (not committed: sent again)', ['status']),
    scaipStatus: c('anxin_scaip_mrs_total', 'SCAIP <mrs> replies by status number (0 handled, 5 not treated, 7 tag missing, 99 not understood) and unanswered (the unit never answered our MESSAGE)', ['snu']),
    scaipAuth: c('anxin_scaip_auth_total', 'SCAIP MESSAGEs from units with a SIP password answered 401: challenged (no credentials), refused (wrong ones), stale (an old nonce)', ['result']),
    dc09Skewed: c('anxin_dc09_skewed_total', 'Clear DC-09 messages accepted with a timestamp outside the window (the panel clock is off; encrypted ones are NAKed)', []),
    framesDropped: c('anxin_frames_dropped_total', 'Complete frames read but not handled because their connection was being closed (bad frames in a row, unknown device)', ['protocol']),
    mqttPublishes: c('anxin_mqtt_publishes_total', 'PUBLISH packets from clients, by account role and result: handled, denied (ACL), not_committed (closed without PUBACK)', ['role', 'result']),
    unknownDevice: c('anxin_unknown_device_frames_total', 'Frames from devices that are not registered', ['protocol']),
    unknownEvicted: c('anxin_unknown_devices_evicted_total', 'Oldest "awaiting registration" rows dropped to keep the list bounded', []),
    messages: c('anxin_messages_total', 'Decoded device messages', ['protocol', 'kind']),
    alarmsRaised: c('anxin_alarms_raised_total', 'Alarms raised (new rows)', ['kind']),
    alarmsRepeated: c('anxin_alarms_repeated_total', 'Repeats folded into an open alarm', ['kind']),
    duplicates: c('anxin_duplicate_messages_total', 'Device retransmissions recognised', ['protocol']),
    connections: g('anxin_connections', 'Open device connections', ['protocol']),
    refused: c('anxin_connections_refused_total', 'Connections refused', ['protocol', 'reason']),
    closed: c('anxin_connections_closed_total', 'Connections closed by the server', ['protocol', 'reason']),
    unidentified: g('anxin_connections_unidentified', 'Open device connections that have not sent a frame from a registered device yet', ['protocol']),
    deviceClones: c('anxin_device_clone_suspected_total', 'Clone episodes: a second live connection from another address claimed a device identity', ['protocol']),
    receiverLines: c('anxin_receiver_lines_total', 'Alarm receiver lines by type (heartbeat, event, unknown_code, unknown_account, wrong_protocol, invalid) and answer (ack, nak, none, stale)', ['receiver', 'line', 'answer']),
    receiverPortOpen: g('anxin_receiver_port_open', '1 while the alarm receiver serial port is open', ['receiver']),
    receiverPortEvents: c('anxin_receiver_port_events_total', 'Alarm receiver serial port events: opened, open_failed, lost', ['receiver', 'event']),
    mqttDenials: c('anxin_mqtt_denials_total', 'MQTT requests the broker refused: auth, auth_backoff, busy, client_id, keepalive, max_connections, acl_publish, acl_subscribe, packet_too_large, unauthenticated_per_address', ['reason']),
    zigbeeIgnored: c('anxin_zigbee2mqtt_ignored_total', 'Zigbee2MQTT messages ignored: not_state (bridge/…, …/set, …/availability topics), unknown_model, no_mapping, unregistered, not_json, wrong_protocol', ['reason']),
    shed: c('anxin_shed_messages_total', 'Routine reports shed while the event loop lagged past OVERLOAD_LAG_MS, or after waiting that long in the routine lane (not stored, not evaluated)', ['protocol']),
    laneWaiting: g('anxin_routine_lane_waiting', 'Frames of routine reports waiting in the routine lane (alarm-bearing frames never wait there)'),
    laneWaitMs: g('anxin_routine_lane_wait_ms', 'How long the oldest frame handled in the routine lane\'s last slice had waited, in ms'),
    overload: g('anxin_overload', '1 while routine reports are being shed'),
    processErrors: c('anxin_process_errors_total', 'Errors while handling a device message', ['stage']),
    telemetryPoints: c('anxin_telemetry_points_total', 'Telemetry points accepted', ['writer']),
    telemetryDropped: c('anxin_telemetry_dropped_total', 'Telemetry points dropped by the overflow policy', ['writer']),
    telemetryRefused: c('anxin_telemetry_refused_total', 'Telemetry points the store refused for good (isolated from their batch, the rest written), by reason: time_out_of_range, unparseable, field_type_conflict, max_values_per_tag, beyond_retention, too_large, other, not_isolated', ['writer', 'reason']),
    telemetryDeviceTimeIgnored: c('anxin_telemetry_device_time_ignored_total', 'Messages whose device time was not used as their telemetry time (more than a day ahead of the receive time, before 2000, or invalid): stored at the receive time', ['protocol', 'reason']),
    telemetryBatches: c('anxin_telemetry_batches_total', 'Telemetry batches written', ['writer', 'result']),
    telemetryBuffer: g('anxin_telemetry_buffer', 'Telemetry points waiting to be written', ['writer']),
    telemetryWriteSeconds: new client.Histogram({
      name: 'anxin_telemetry_write_seconds',
      help: 'Time to write one telemetry batch, by result',
      labelNames: ['writer', 'result'],
      // from a local PostgreSQL insert to a remote InfluxDB timing out (10 s)
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    commands: c('anxin_device_commands_total', 'Device commands by result', ['protocol', 'state']),
    journalDepth: g('anxin_alarm_journal_depth', 'Alarm messages journaled but not yet committed'),
    journalRejected: c('anxin_alarm_journal_rejected_total', 'Journaled alarm messages PostgreSQL refused for their data (not for being down): set aside in rejected.jsonl so the rest replay', []),
    escalationSteps: c('anxin_escalation_steps_total', 'Escalation steps performed', ['action']),
    httpErrors: c('anxin_http_errors_total', 'HTTP error answers', ['status']),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
