/**
 * `npm run demo`: Anxin on the embedded defaults with a demo centre and its devices running (issue 20).
 *
 *   npm run demo [-- --alarm-every SECONDS] [--elders N]
 *
 * - The gateway runs in this process, as `npm start` runs it (gateway/app.ts), but on its own data directory
 *   (DATA_DIR defaults to ./data-demo, never ./data), so a demo never mixes with a real centre.
 * - The centre (about 50 elders in 上海市, their contacts, devices of the watch, gt06, mqtt-json, phone and contactid
 *   protocols) is a generated .xlsx POSTed to /api/import with the admin's token: the bulk import's own path. A second
 *   run on the same DATA_DIR finds the centre there (external keys DEMO-…) and imports nothing; the fall sensors then
 *   get new MQTT secrets (the import showed the old ones once).
 * - Demo users admin, supervisor, agent and installer get new random passwords on every run (DEMO_PASSWORD sets
 *   one for all four); they are printed in the start summary. The others are created through POST /api/users.
 * - Simulated watches, GT06 trackers and MQTT fall sensors (simulators/, through their library APIs) connect in
 *   this process and report on their schedules; one-key callers dial the red line on the simulated Asterisk
 *   (TELEPHONY=simulated, its /sim control API); where socat exists, a simulated Contact ID receiver sits on a
 *   pseudo-terminal (RECEIVERS "demo"). Every --alarm-every seconds (default 60, DEMO_ALARM_EVERY; 0 = none) one
 *   of them raises an SOS, a fall, a red-key call or a panel emergency, the kinds in turn; none while DEMO_MAX_OPEN
 *   (default 8) alarms are open, so an unattended demo does not pile up hundreds.
 * - Ctrl-C (SIGINT) or SIGTERM stops the simulators first, then the gateway (embedded PostgreSQL last).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startApp, type App } from '../gateway/app.js';
import { ConfigError, loadConfig } from '../gateway/config.js';
import { hashDeviceSecret, newDeviceSecret } from '../gateway/device-secrets.js';
import { COLUMNS, type Kind } from '../gateway/import/columns.js';
import { writeFile } from '../gateway/import/workbook.js';
import { hashPassword } from '../gateway/passwords.js';
import { listAlarms } from '../gateway/store/alarms.js';
import { audit } from '../gateway/store/audit.js';
import { deleteUserSessions, getUserWithHash, updateUser } from '../gateway/store/users.js';
import { createPtyPair, findSocat, type PtyPair } from '../simulators/alarm-receiver/pty.js';
import { SimulatedReceiver } from '../simulators/alarm-receiver/receiver.js';
import { NativeFallSensor } from '../simulators/fall-sensor/index.js';
import { SimulatedTracker } from '../simulators/gt06/tracker.js';
import { SimulatedWatch } from '../simulators/watch/watch.js';

const USAGE = `usage: npm run demo [-- --alarm-every SECONDS] [--elders N]
  Starts Anxin with a demo centre (DATA_DIR defaults to ./data-demo) and simulated devices.
  --alarm-every S  an alarm (SOS, fall, red key, panel) every S seconds (default 60, or DEMO_ALARM_EVERY; 0 = no alarms);
                   none while DEMO_MAX_OPEN (default 8) alarms are open
  --elders N       elders in the demo centre, 8-500 (default 50; only when the centre is first made)
  Environment: DEMO_PASSWORD sets the password of all four demo users (else random ones, new on every run),
  and every Anxin setting (HTTP_PORT, DATA_DIR, …) as for npm start.`;

// ---- the centre, generated deterministically from small tables

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '周', '吴', '徐', '孙', '朱', '马', '胡', '郭', '林', '何', '高', '沈'];
const FEMALE = ['秀英', '桂英', '玉兰', '秀兰', '凤英', '桂兰', '淑珍', '美华', '惠芳', '月娥', '雅琴', '素珍'];
const MALE = ['建国', '国强', '志明', '德明', '金福', '根宝', '永康', '家栋', '伟民', '炳根', '文华', '荣生'];
const CHILD = ['建华', '丽萍', '海燕', '卫东', '晓明', '敏', '静', '军', '芳', '勇'];

interface District {
  name: string;
  /** the first six digits of an ID number issued there */
  code: string;
  area: string;
  streets: string[];
  centre: [number, number];
}
const DISTRICTS: District[] = [
  { name: '徐汇区', code: '310104', area: '天平路街道', streets: ['漕溪北路', '天平路', '宛平南路', '建国西路'], centre: [31.196, 121.441] },
  { name: '长宁区', code: '310105', area: '江苏路街道', streets: ['愚园路', '安西路', '武夷路', '江苏路'], centre: [31.221, 121.428] },
  { name: '静安区', code: '310106', area: '静安寺街道', streets: ['常德路', '延安中路', '胶州路', '武定路'], centre: [31.227, 121.448] },
  { name: '普陀区', code: '310107', area: '曹杨新村街道', streets: ['曹杨路', '兰溪路', '枣阳路', '花溪路'], centre: [31.243, 121.408] },
  { name: '黄浦区', code: '310101', area: '老西门街道', streets: ['复兴东路', '方浜中路', '中华路', '蓬莱路'], centre: [31.219, 121.486] },
  { name: '杨浦区', code: '310110', area: '控江路街道', streets: ['控江路', '靖宇南路', '凤城路', '鞍山路'], centre: [31.278, 121.529] },
  { name: '虹口区', code: '310109', area: '四川北路街道', streets: ['四川北路', '山阴路', '多伦路', '甜爱路'], centre: [31.266, 121.484] },
];
const CONDITIONS = ['高血压', '糖尿病', '冠心病', '轻度认知障碍', '骨质疏松', '慢阻肺', '', ''];
const MEDICATIONS: Record<string, string> = { 高血压: '氨氯地平 5mg 每日一次', 糖尿病: '二甲双胍 0.5g 每日两次', 冠心病: '阿司匹林 100mg 每日一次', 慢阻肺: '噻托溴铵 吸入 每日一次' };
const DIALECTS = ['上海话', '上海话', '普通话', '宁波话', '苏北话'];

type Protocol = 'watch' | 'gt06' | 'mqtt-json' | 'phone' | 'contactid';
interface DemoDevice {
  identifier: string;
  protocol: Protocol;
  kind: string;
  model: string;
  simPhone: string;
}
export interface DemoElder {
  key: string;
  name: string;
  district: District;
  address: string;
  point: [number, number];
  device: DemoDevice;
  /** an alarm panel (Contact ID account) beside the device, for every tenth elder */
  panel?: DemoDevice;
}

/** A GB 11643 ID number: the district's code, the birth date, a sequence (odd for men) and the check character. */
function idNumber(code: string, birth: string, seq: number): string {
  const body = `${code}${birth.replace(/-/g, '')}${String(seq).padStart(3, '0')}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, d, i) => s + Number(d) * w[i]!, 0);
  return body + '10X98765432'[sum % 11];
}

/** Which protocol the elder's device speaks: watches, GT06 pendants, fall sensors, one-key callers by turns. */
const protocolOf = (i: number): Protocol => (['watch', 'gt06', 'watch', 'mqtt-json', 'phone'] as const)[i % 5]!;

export function demoCentre(n: number) {
  const elders: DemoElder[] = [];
  const elderRows: string[][] = [];
  const contactRows: string[][] = [];
  const deviceRows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const female = i % 3 !== 1;
    const surname = SURNAMES[(i * 7) % SURNAMES.length]!;
    const name = surname + (female ? FEMALE : MALE)[(i * 5 + 3) % 12]!;
    const d = DISTRICTS[i % DISTRICTS.length]!;
    const street = d.streets[(i * 3) % d.streets.length]!;
    const address = `上海市${d.name}${street} ${100 + ((i * 37) % 900)} 弄 ${1 + (i % 12)} 号 ${1 + (i % 6)}0${1 + (i % 4)} 室`;
    const birth = `${1930 + ((i * 13) % 22)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + ((i * 11) % 28)).padStart(2, '0')}`;
    const seq = 2 * ((i * 17) % 400) + (female ? 2 : 1);
    const key = `DEMO-${String(i + 1).padStart(3, '0')}`;
    const cond = CONDITIONS[i % CONDITIONS.length]!;
    const alone = i % 2 === 0;
    const age = 2026 - Number(birth.slice(0, 4));
    const cats = [alone ? '独居' : '空巢', ...(age >= 80 ? ['高龄'] : []), ...(i % 9 === 4 ? ['失能'] : [])];
    const phone = `139${String(20000000 + i * 7)}`;
    elderRows.push([
      key, name, female ? '女' : '男', birth, idNumber(d.code, birth, seq), phone, address, d.area, alone ? '是' : '否', DIALECTS[i % DIALECTS.length]!,
      cats.join('、'), cond, MEDICATIONS[cond] ?? '', i % 7 === 0 ? '青霉素' : '', `${SURNAMES[(i + 3) % SURNAMES.length]}医生 1360021${String(1000 + i).slice(-4)}`,
      alone ? `钥匙在 ${1 + (i % 6)}0${2 + (i % 3)} 邻居家` : '家中有人',
    ]);
    const child = surname + CHILD[i % CHILD.length]!;
    contactRows.push([key, '1', child, i % 2 ? '儿子' : '女儿', `138${String(10000000 + i * 13)}`, '是', '是', '是', '']);
    if (alone) contactRows.push([key, '2', `${SURNAMES[(i + 9) % SURNAMES.length]}阿姨`, '邻居', `137${String(30000000 + i * 11)}`, '是', '否', '否', '住对门']);
    const p = protocolOf(i);
    const k = String(i + 1).padStart(3, '0');
    const device: DemoDevice =
      p === 'watch'
        ? { identifier: `8800010${k}`, protocol: p, kind: '手表', model: 'Y8', simPhone: `147${String(40000000 + i)}` }
        : p === 'gt06'
          ? { identifier: `865028000100${k}`, protocol: p, kind: '呼叫挂件', model: 'GT06N', simPhone: `147${String(50000000 + i)}` }
          : p === 'mqtt-json'
            ? { identifier: `fs-demo-${k}`, protocol: p, kind: '跌倒传感器', model: 'AX-FS1', simPhone: '' }
            : { identifier: `0215${String(2000000 + i)}`, protocol: p, kind: '一键呼叫器', model: 'CK-100', simPhone: '' };
    const panel: DemoDevice | undefined = i % 10 === 9 ? { identifier: String(2000 + i), protocol: 'contactid', kind: '报警主机', model: 'Contact ID panel', simPhone: '' } : undefined;
    for (const x of [device, ...(panel ? [panel] : [])]) deviceRows.push([x.identifier, x.protocol, x.kind, x.model, x.simPhone, key]);
    const point: [number, number] = [d.centre[0] + (((i * 7919) % 100) - 50) * 1e-4, d.centre[1] + (((i * 104_729) % 100) - 50) * 1.2e-4];
    elders.push({ key, name, district: d, address, point, device, ...(panel ? { panel } : {}) });
  }
  const sheet = (kind: Kind, rows: string[][]) => ({ kind, columns: COLUMNS[kind], rows });
  return { elders, sheets: [sheet('elders', elderRows), sheet('contacts', contactRows), sheet('devices', deviceRows)] };
}

// ---- the run

const USERS = [
  { username: 'admin', displayName: '系统管理员', role: 'admin' },
  { username: 'supervisor', displayName: '陈班长', role: 'supervisor' },
  { username: 'agent', displayName: '王芳', role: 'agent' },
  { username: 'installer', displayName: '李师傅', role: 'installer' },
] as const;

function options() {
  try {
    return parseArgs({
      options: {
        'alarm-every': { type: 'string' },
        elders: { type: 'string', default: '50' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const stamp = () => new Date().toTimeString().slice(0, 8);
const say = (m: string) => console.log(`[demo ${stamp()}] ${m}`);

async function main(): Promise<void> {
  const a = options();
  if (a.help) return void console.log(USAGE);
  const alarmEvery = Number(a['alarm-every'] ?? process.env.DEMO_ALARM_EVERY ?? 60);
  const count = Number(a.elders);
  if (!(alarmEvery >= 0)) return fail(`bad --alarm-every ${a['alarm-every']}`);
  if (!Number.isInteger(count) || count < 8 || count > 500) return fail(`--elders must be 8-500, got ${a.elders}`);
  const given = process.env.DEMO_PASSWORD;
  if (given !== undefined && (given.length < 8 || given.length > 256)) return fail('DEMO_PASSWORD must be 8 to 256 characters');
  const passwords = Object.fromEntries(USERS.map((u) => [u.username, given ?? `${u.username}-${randomBytes(6).toString('base64url')}`])) as Record<string, string>;

  // A Contact ID receiver on a socat pseudo-terminal pair, where socat exists and RECEIVERS is not set already.
  const pty: PtyPair | undefined = !process.env.RECEIVERS && findSocat() ? await createPtyPair().catch(() => undefined) : undefined;
  const env = { ...process.env, ...(pty ? { RECEIVERS: JSON.stringify([{ name: 'demo', path: pty.b }]) } : {}), DATA_DIR: process.env.DATA_DIR ?? './data-demo', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ADMIN_PASSWORD: passwords.admin };
  let cfg;
  try {
    cfg = loadConfig(env);
  } catch (e) {
    await pty?.close();
    if (e instanceof ConfigError) return fail(e.message);
    throw e;
  }
  say(`starting Anxin on ${cfg.dataDir} (启动中，首次启动需初始化数据库，约半分钟)…`);
  const app = await startApp(cfg).catch(async (e: Error) => {
    await pty?.close();
    console.error(`Anxin failed to start: ${e.message}`);
    return process.exit(1);
  });
  const sims: { close(): Promise<void> }[] = [];
  let receiver: SimulatedReceiver | undefined;
  const timers: NodeJS.Timeout[] = [];
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    say(`${sig}: stopping the simulators, then Anxin (正在停止：先停模拟设备，再停服务)…`);
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    for (const t of timers) clearInterval(t);
    // the devices first; the receiver's line after the gateway, so closing it does not look like a pulled cable
    void Promise.allSettled(sims.map((s) => s.close()))
      .then(() => app.stop())
      .finally(() => Promise.allSettled([receiver?.close(), pty?.close()]))
      .then(
        () => {
          say('stopped (已停止)');
          process.exit(0);
        },
        () => process.exit(1),
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  try {
    await ensureUsers(app, passwords);
    const centre = demoCentre(count);
    const secrets = await ensureCentre(app, passwords.admin!, centre);
    if (stopping) return;
    if (pty) receiver = await SimulatedReceiver.open({ path: pty.a }).catch((e: Error) => (say(`Contact ID receiver: ${e.message}`), undefined));
    await startSimulators(app, centre.elders, secrets, sims, timers, alarmEvery, () => stopping, receiver);
    printSummary(app, alarmEvery, passwords, !!receiver);
  } catch (e) {
    console.error(`demo failed: ${(e as Error).message}`);
    stop('error');
    process.exitCode = 1;
  }
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

async function login(app: App, username: string, password: string): Promise<{ authorization: string }> {
  const r = await app.http.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  if (r.statusCode !== 200) throw new Error(`login as ${username} failed: ${r.statusCode} ${r.body}`);
  return { authorization: `Bearer ${r.json<{ token: string }>().token}` };
}

/** Existing demo users get the new password (as `npm run admin -- reset-password` does); missing ones are created over the API. */
async function ensureUsers(app: App, passwords: Record<string, string>): Promise<void> {
  for (const u of USERS) {
    const existing = await getUserWithHash(app.db, u.username);
    if (!existing) continue;
    await updateUser(app.db, existing.id, { passwordHash: await hashPassword(passwords[u.username]!), disabled: false });
    await deleteUserSessions(app.db, existing.id);
    await audit(app.db, 'cli:demo', 'user_update', `user:${existing.id}`, { fields: ['password'], via: 'demo' });
  }
  const admin = await login(app, 'admin', passwords.admin!);
  for (const u of USERS) {
    if (await getUserWithHash(app.db, u.username)) continue;
    const r = await app.http.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: u.username, displayName: u.displayName, role: u.role, password: passwords[u.username] } });
    if (r.statusCode !== 201) throw new Error(`creating user ${u.username} failed: ${r.statusCode} ${r.body}`);
  }
}

/** Imports the centre unless it is there already; answers each MQTT device's secret. */
async function ensureCentre(app: App, adminPassword: string, centre: ReturnType<typeof demoCentre>): Promise<Map<string, string>> {
  const secrets = new Map<string, string>();
  const have = Number((await app.db.query(`SELECT count(*) FROM elders WHERE external_key LIKE 'DEMO-%'`)).rows[0].count);
  if (have > 0) {
    say(`the demo centre is here already (${have} elders): nothing imported (演示中心已存在，未重复导入)`);
    // The secrets were shown once, at the import: the demo's own sensors get new ones.
    for (const e of centre.elders.filter((x) => x.device.protocol === 'mqtt-json')) {
      const secret = newDeviceSecret();
      const r = await app.db.query(`UPDATE devices SET mqtt_secret_hash = $1 WHERE identifier = $2`, [hashDeviceSecret(secret), e.device.identifier]);
      if (r.rowCount) secrets.set(e.device.identifier, secret);
    }
    return secrets;
  }
  const admin = await login(app, 'admin', adminPassword);
  const file = await writeFile('xlsx', centre.sheets);
  const post = await app.http.inject({
    method: 'POST',
    url: '/api/import',
    headers: { ...admin, 'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
    payload: file,
  });
  if (post.statusCode !== 202) throw new Error(`import refused: ${post.statusCode} ${post.body}`);
  const id = post.json<{ id: string }>().id;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const j = (await app.http.inject({ method: 'GET', url: `/api/import/${id}`, headers: admin })).json<{
      state: string;
      message?: string;
      errors: unknown[];
      counts?: { elders: { create: number }; contacts: { rows: number }; devices: { create: number } };
      secrets?: { identifier: string; mqttSecret: string }[];
    }>();
    if (j.state === 'failed') throw new Error(`import failed: ${j.message} ${JSON.stringify(j.errors.slice(0, 5))}`);
    if (j.state !== 'done') continue;
    for (const s of j.secrets ?? []) secrets.set(s.identifier, s.mqttSecret);
    say(`imported the demo centre through /api/import (已导入演示中心): ${j.counts?.elders.create} elders, ${j.counts?.contacts.rows} contacts, ${j.counts?.devices.create} devices`);
    return secrets;
  }
}

async function startSimulators(
  app: App,
  elders: DemoElder[],
  secrets: Map<string, string>,
  sims: { close(): Promise<void> }[],
  timers: NodeJS.Timeout[],
  alarmEvery: number,
  stopping: () => boolean,
  receiver?: SimulatedReceiver,
): Promise<void> {
  const host = '127.0.0.1';
  const around = ([lat, lon]: [number, number]): Array<[number, number]> => [0, 1, 2, 3, 2, 1].map((s) => [lat + s * 2e-4, lon + s * 1.5e-4]);
  /** what can raise an alarm, by kind: the demo takes the kinds in turn, and a different device of the kind each time */
  const alarmers = new Map<string, Array<{ who: DemoElder; what: string; id?: string; raise: () => Promise<unknown> }>>();
  const add = (kind: string, a: { who: DemoElder; what: string; id?: string; raise: () => Promise<unknown> }) => alarmers.set(kind, [...(alarmers.get(kind) ?? []), a]);
  const quiet = (e: { on(ev: 'error', f: (e: Error) => void): unknown }) => e.on('error', () => undefined);
  const simUrl = `http://127.0.0.1:${app.cfg.simAsteriskPort}`;
  const telephonyUp = app.cfg.telephony === 'simulated' && (await fetch(`${simUrl}/sim/directory`).then((r) => r.ok, () => false));
  for (const e of elders) {
    if (stopping()) return;
    const id = e.device.identifier;
    const account = e.panel?.identifier;
    // Contact ID 101: personal emergency, from the panel's account, through the receiver on the serial line
    if (receiver && account) add('panel-sos', { who: e, id: account, what: 'emergency 紧急求助 (alarm panel, Contact ID 101)', raise: () => receiver.sendEvent({ account, qualifier: 'E', code: 101, group: 1, zone: 1 }) });
    if (e.device.protocol === 'watch') {
      const w = new SimulatedWatch({ host, port: app.servers.get('watch')!.port, deviceId: id, udIntervalMs: 60_000, lkIntervalMs: 300_000, path: around(e.point), battery: 60 + (Number(id.slice(-2)) % 40) });
      quiet(w);
      await w.connect().then(
        () => void w.sendUD(),
        (err: Error) => say(`watch ${id}: ${err.message}`),
      );
      sims.push(w);
      add('watch-sos', { who: e, what: 'SOS 求助 (watch)', raise: () => w.sendAlarm('sos') });
      add('watch-fall', { who: e, what: 'fall 跌倒 (watch)', raise: () => w.sendAlarm('fall') });
    } else if (e.device.protocol === 'gt06') {
      const t = new SimulatedTracker({ host, port: app.servers.get('gt06')!.port, imei: id, heartbeatMs: 180_000, positionMs: 60_000, path: around(e.point) });
      quiet(t);
      await t.connect().catch((err: Error) => say(`GT06 ${id}: ${err.message}`));
      sims.push(t);
      add('gt06-sos', { who: e, what: 'SOS 求助 (GT06 pendant)', raise: () => t.alarm('sos') });
    } else if (e.device.protocol === 'mqtt-json') {
      const secret = secrets.get(id);
      if (!secret) continue;
      const s = new NativeFallSensor({ url: `mqtt://${host}:${app.broker.port}`, deviceId: id, secret });
      quiet(s);
      await s.connect().catch((err: Error) => say(`fall sensor ${id}: ${err.message}`));
      sims.push(s);
      const beat = () => void s.heartbeat(70 + (Number(id.slice(-2)) % 30)).catch(() => undefined);
      beat();
      void s.status({ presence: true, occupancy: true }).catch(() => undefined);
      timers.push(setInterval(beat, 120_000));
      add('sensor-fall', { who: e, what: 'fall 跌倒 (MQTT fall sensor)', raise: () => s.fall() });
    } else if (e.device.protocol === 'phone' && telephonyUp) {
      // the red key: the one-key caller dials RED_LINE_DID, injected into the simulated Asterisk (its /sim control API)
      const call = () => fetch(`${simUrl}/sim/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: id, to: app.cfg.redLineDid, hangupAfter: 45 }) });
      add('red-key', { who: e, what: `red key 一键呼叫 (one-key caller dials ${app.cfg.redLineDid})`, raise: call });
    }
  }
  if (!alarmEvery) return;
  const maxOpen = Math.max(1, Number(process.env.DEMO_MAX_OPEN) || 8);
  let n = 0;
  let paused = false;
  const raise = async () => {
    // Nobody working the queue: stop at DEMO_MAX_OPEN open alarms rather than pile up hundreds overnight.
    const open = await listAlarms(app.db, { open: true, limit: maxOpen, offset: 0 }).catch(() => []);
    if (open.length >= maxOpen) {
      if (!paused) say(`${open.length} alarms are open: no new alarm until one is closed (DEMO_MAX_OPEN=${maxOpen}) / 未结报警已达 ${open.length} 条，暂停产生新报警`);
      paused = true;
      return;
    }
    paused = false;
    const kinds = ['watch-sos', 'sensor-fall', 'gt06-sos', 'red-key', 'watch-fall', 'panel-sos'].filter((k) => alarmers.has(k));
    if (stopping() || !kinds.length) return;
    // the kinds in turn; within a kind, a stride of 7 spreads the alarms over its devices (and districts)
    const list = alarmers.get(kinds[n % kinds.length]!)!;
    const a = list[(Math.floor(n++ / kinds.length) * 7) % list.length]!;
    say(`${a.what}: ${a.who.name}, ${a.who.address} (${a.id ?? a.who.device.identifier})`);
    void a.raise().catch(() => undefined);
  };
  timers.push(setTimeout(() => {
    void raise();
    timers.push(setInterval(() => void raise(), alarmEvery * 1000));
  }, Math.min(alarmEvery, 10) * 1000));
}

function printSummary(app: App, alarmEvery: number, passwords: Record<string, string>, contactId: boolean): void {
  const host = ['0.0.0.0', '::'].includes(app.cfg.httpHost) ? 'localhost' : app.cfg.httpHost;
  const url = `http://${host}:${app.httpPort}/`;
  const devices = (p: string) => app.servers.get(p)?.port;
  console.log(
    [
      '',
      '================================================================================',
      ' Anxin 安心 演示中心 / demo centre',
      '================================================================================',
      ` Dashboard 控制台: ${url}`,
      ` Data 数据目录: ${app.cfg.dataDir} (demo only; your real centre's ./data is not touched / 仅演示用)`,
      '',
      ' Demo users 演示账号 (new passwords on every run / 每次启动重置密码):',
      ...USERS.map((u) => `   ${u.role.padEnd(11)} ${u.username.padEnd(11)} ${passwords[u.username]!.padEnd(22)} ${u.displayName}`),
      '',
      ' Running 正在运行:',
      ...app.summary.map((l) => `   ${l}`),
      `   Simulators  watches (watch :${devices('watch')}), GT06 pendants (gt06 :${devices('gt06')}), MQTT fall sensors (:${app.broker.port})`,
      alarmEvery
        ? `   Alarms      an SOS, a fall, a red-key call or a panel emergency every ${alarmEvery} s (--alarm-every S) / 每 ${alarmEvery} 秒一次报警`
        : '   Alarms      none (--alarm-every 0) / 不自动产生报警',
      '   One-key callers press the red key now and then (calls into the simulated Asterisk).',
      contactId
        ? '   Contact ID  a simulated alarm receiver on a socat pseudo-terminal (RECEIVERS "demo"), with five alarm panels'
        : '   Contact ID  not simulated (needs socat: apt-get install socat); the five alarm panels are on record only',
      '',
      ' Log in as "agent", sign in (签入) and set ready (置闲): the next alarm pops up on your screen.',
      ' 以 agent 登录，签入并置闲，下一条报警就会弹屏。',
      ' Stop 停止: Ctrl-C (simulators first, then Anxin / 先停模拟设备，再停服务)',
      '================================================================================',
      '',
    ].join('\n'),
  );
}

main().catch((e: Error) => {
  console.error(`demo failed: ${e.message}`);
  process.exit(1);
});
